import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * `server.close()` drops only the keep-alive connections idle at that moment: one that is busy stays
 * open after its answer, and holds the close, until its client gives up on it or the close's grace
 * cuts it (a Prometheus scrape, an operator's browser). From the moment the close starts, an answer
 * whose headers are still to go out says `Connection: close`, so that its client opens no new
 * request on it and Node ends the connection after it; a connection whose answer had begun already
 * is closed as soon as that answer is out.
 *
 * Returns what the close calls first.
 */
export function closeConnectionsAfterAnswers(server: Server): () => void {
  let closing = false;
  const unanswered = new Set<ServerResponse>();
  // Before the app's own listener, so that the header is set before the app can answer.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) res.setHeader('Connection', 'close');
    else unanswered.add(res);
    // 'close' comes after Node has detached the answer from its connection: the connection is idle
    // by then, unless the client pipelined another request on it.
    res.once('close', () => {
      unanswered.delete(res);
      if (closing) server.closeIdleConnections();
    });
  });
  return () => {
    closing = true;
    for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
  };
}
