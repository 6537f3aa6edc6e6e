import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMessage } from '@notify/test-support/messages.js';
import { freePort } from '@notify/test-support/system/ports.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

/** Debian's `prometheus` package; .ci/run installs it. */
const PROMETHEUS = '/usr/bin/prometheus';

type QueryAnswer = {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
};

describe('a real Prometheus scraping the handler', () => {
  let harness: Harness;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let dir: string | undefined;
  const output: string[] = [];

  beforeAll(async () => {
    // Fail, never skip: without the binary this test would prove nothing while looking green.
    if (!existsSync(PROMETHEUS))
      throw new Error(`${PROMETHEUS} not found: install Debian's prometheus package (apt-get install -y prometheus)`);
    harness = await startHarness('prometheus');
    dir = await mkdtemp(join(tmpdir(), 'notify-prometheus-'));
    const target = new URL(harness.handler.url).host;
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: notification-handler',
        '    static_configs:',
        `      - targets: ["${target}"]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.on('error', (err) => output.push(`spawn error: ${err.message}`));
    prometheus.stdout?.on('data', (chunk) => output.push(String(chunk)));
    prometheus.stderr?.on('data', (chunk) => output.push(String(chunk)));
    await waitFor(
      async () => {
        if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${output.join('')}`);
        const response = await fetch(`${prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
          () => undefined,
        );
        return response?.status === 200 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'Prometheus to answer' },
    );
  });

  afterAll(async () => {
    await stopProcess(prometheus);
    await harness?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const query = async (promql: string): Promise<QueryAnswer> => {
    const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return (await response.json()) as QueryAnswer;
  };

  it('When a notification is sent, then Prometheus reads it back from notify_notifications_total', async () => {
    const message = buildMessage('ticket.added_to_checkout');

    harness.publish(message);
    await harness.settled(message.trackingId, ['sent']);

    const promql =
      'notify_notifications_total{job="notification-handler",operation="ticket.added_to_checkout",outcome="sent"}';
    const result = await waitFor(
      async () => {
        const answer = await query(promql);
        const [series] = answer.data.result;
        return series && Number(series.value[1]) === 1 ? series : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the sent count in Prometheus' },
    );
    expect(result.metric).toMatchObject({ instance: new URL(harness.handler.url).host });
    const up = await query('up{job="notification-handler"}');
    expect(up.data.result.map((series) => series.value[1])).toEqual(['1']);
  });
});

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
