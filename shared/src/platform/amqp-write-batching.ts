import type { ChannelModel } from 'amqplib';

type CorkableStream = {
  cork: () => void;
  uncork: () => void;
  write: (...args: unknown[]) => boolean;
};

/**
 * amqplib hands every frame to the socket on its own: a relay batch of 50 publishes, or a
 * handler's 50 acks after one commit, is 50 `write` system calls and 50 TCP packets, each of
 * which the broker wakes up to read (RabbitMQ spends about 40 % of its CPU in the kernel under
 * the bench's load). Corking the socket at the first write of a turn of the event loop and
 * uncorking it on the next tick sends that turn's frames in one `writev`: nothing waits for a
 * timer, so no frame leaves later than it would have, and a single frame costs what it did.
 *
 * The socket is amqplib's, not part of its typed API (`connection.stream`), so this returns false
 * when it is not there to batch; the integration test fails if an upgrade moves it.
 */
export function batchFrameWrites(model: ChannelModel): boolean {
  const stream = (model.connection as { stream?: Partial<CorkableStream> }).stream;
  if (!isCorkable(stream)) return false;
  const writeNow = stream.write.bind(stream);
  let corked = false;
  const flush = () => {
    corked = false;
    stream.uncork();
  };
  stream.write = (...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(flush);
    }
    return writeNow(...args);
  };
  return true;
}

function isCorkable(stream: Partial<CorkableStream> | undefined): stream is CorkableStream {
  return (
    typeof stream?.cork === 'function' && typeof stream.uncork === 'function' && typeof stream.write === 'function'
  );
}
