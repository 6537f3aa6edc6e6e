import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export type LoadSettings = {
  port: number;
  authorization: string;
  sends: number;
  concurrency: number;
  maxSeconds: number;
  warmup: number;
};

/** Latencies in ms of the sends that completed, and how many did not answer 200. */
export type LoadRun = { latencies: Float64Array; done: number; failures: number; seconds: number };

/**
 * Fires single-message sends over keep-alive connections, `concurrency` at a time. The warm-up is
 * not counted; `onMeasureStart` runs between it and the measured sends.
 */
export async function runLoad(settings: LoadSettings, onMeasureStart: () => void = () => {}): Promise<LoadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
  const send = sender(settings.port, agent, settings.authorization);
  try {
    await drive(send, settings.warmup, settings.concurrency, settings.maxSeconds);
    onMeasureStart();
    return await drive(send, settings.sends, settings.concurrency, settings.maxSeconds);
  } finally {
    agent.destroy();
  }
}

/** One POST /v3.1/send of a single message with a unique CustomID and recipient; resolves with the status. */
function sender(port: number, agent: Agent, authorization: string): () => Promise<number> {
  let sequence = 0;
  return () => {
    sequence += 1;
    const body = `{"Messages":[{"From":{"Email":"bench@sender.example","Name":"Bench"},"To":[{"Email":"user${sequence}@example.com"}],"Subject":"Bench ${sequence}","TextPart":"Hello","CustomID":"bench-${sequence}"}]}`;
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      Authorization: authorization,
    };
    return new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/v3.1/send', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}

async function drive(send: () => Promise<number>, total: number, concurrency: number, maxSeconds: number) {
  const latencies = new Float64Array(total);
  const deadline = performance.now() + maxSeconds * 1_000;
  let started = 0;
  let done = 0;
  let failures = 0;
  const worker = async () => {
    while (started < total && performance.now() < deadline) {
      started += 1;
      const begin = performance.now();
      const status = await send().catch(() => 0);
      latencies[done] = performance.now() - begin;
      done += 1;
      if (status !== 200) failures += 1;
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies: latencies.subarray(0, done), done, failures, seconds: (performance.now() - begin) / 1_000 };
}
