import { spawn } from 'node:child_process';

export type ForeignMessage = {
  url: string;
  exchange: string;
  routingKey: string;
  /** Any bytes; sent on standard input, so size is no problem. */
  body: Buffer | string;
  contentType?: string;
  /** Sent as `-H "key: value"` (string values, as the tool sends them). */
  headers?: Record<string, string>;
  persistent?: boolean;
};

/**
 * Publishes through `amqp-publish` (Debian's amqp-tools, a C client): what another producer than
 * our own services would send, with nothing of our encoder in the way.
 */
export function amqpPublish(message: ForeignMessage, timeoutMs = 30_000): Promise<void> {
  const args = [`--url=${message.url}`, '-e', message.exchange, '-r', message.routingKey];
  if (message.persistent ?? true) args.push('-p');
  if (message.contentType !== undefined) args.push('-C', message.contentType);
  for (const [key, value] of Object.entries(message.headers ?? {})) args.push('-H', `${key}: ${value}`);
  return new Promise((resolve, reject) => {
    const child = spawn('amqp-publish', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`amqp-publish could not run (${error.message}); install Debian's amqp-tools`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`amqp-publish ended with ${code ?? signal}: ${stderr.trim()}`));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(message.body);
  });
}
