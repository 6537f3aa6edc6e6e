import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommandLine, parseOptions, USAGE } from '../../lib/cli.js';

describe('bench options', () => {
  it('When nothing is given, then the default run is 20,000 notifications at 0, 100 and 300 ms with a prefetch sweep', () => {
    expect(parseOptions([])).toMatchObject({
      count: 20_000,
      concurrency: 64,
      latencies: [0, 100, 300],
      drain: [0],
      sendgrid: [0],
      sweep: [10, 50, 200],
      rates: [500, 25],
      baselineCount: 20_000,
      only: [],
      timeoutSeconds: 900,
      writeLatest: true,
      history: 0,
    });
  });

  it('When --prefetch is not given, then it stays unset: the handler’s own default applies', () => {
    expect(parseOptions([])).toMatchObject({ prefetch: undefined });
  });

  it('When a history is asked for, then its size is parsed, and a size past ten million is refused by name', () => {
    expect(parseOptions(['--history', '1000000'])).toMatchObject({ history: 1_000_000 });
    expect(() => parseOptions(['--history', '20000000'])).toThrow(/--history/);
  });

  it('When a typical command line is given, then each option lands where it says', () => {
    const options = parseOptions(['--count', '1000', '--concurrency', '8', '--latency', '100', '--prefetch', '200']);
    expect(options).toMatchObject({
      count: 1_000,
      concurrency: 8,
      latencies: [100],
      prefetch: 200,
      baselineCount: 1_000,
    });
  });

  it('When drain, sweep and rate are "none", then none of those scenarios is asked for', () => {
    expect(parseOptions(['--drain', 'none', '--sweep', 'none', '--rate', 'none'])).toMatchObject({
      drain: [],
      sweep: [],
      rates: [],
    });
  });

  it('When --sendgrid and --only are given, then the SendGrid drains and the names to run land as lists', () => {
    expect(parseOptions(['--sendgrid', '0,100', '--only', 'drain-0ms-prefetch-50-sendgrid, closed-0ms'])).toMatchObject(
      {
        sendgrid: [0, 100],
        only: ['drain-0ms-prefetch-50-sendgrid', 'closed-0ms'],
      },
    );
    expect(parseOptions(['--sendgrid', 'none'])).toMatchObject({ sendgrid: [] });
  });

  it('When a number is not whole or out of range, then it is refused by name', () => {
    expect(() => parseOptions(['--count', '1e4'])).toThrow(/--count must be a whole number/);
    expect(() => parseOptions(['--prefetch', '0'])).toThrow(/--prefetch must be between 1 and 1000/);
    expect(() => parseOptions(['--latency', '0,abc'])).toThrow(/--latency/);
  });

  it('When an unknown option is given, then parsing fails instead of ignoring it', () => {
    expect(() => parseOptions(['--cout', '10'])).toThrow();
  });

  it('When --cluster is given, then the cluster drains run with 1, 2 and 3 handlers and no baseline', () => {
    expect(parseOptions(['--cluster'])).toMatchObject({ cluster: true, clusterHandlers: [1, 2, 3], baselineCount: 0 });
    expect(parseOptions(['--cluster', '--cluster-handlers', '2,4'])).toMatchObject({ clusterHandlers: [2, 4] });
    expect(parseOptions([])).toMatchObject({ cluster: false });
    expect(() => parseOptions(['--cluster-handlers', '0'])).toThrow(/--cluster-handlers must be between 1 and 10/);
  });

  it('When --ticketing-env and --handler-env are given, then their settings land as maps; a malformed pair or PREFETCH is refused', () => {
    expect(
      parseOptions([
        '--ticketing-env',
        'OUTBOX_BATCH_LINGER_MS=20,OUTBOX_BATCH_SIZE=500',
        '--handler-env',
        'LOG_LEVEL=info',
      ]),
    ).toMatchObject({
      ticketingEnv: { OUTBOX_BATCH_LINGER_MS: '20', OUTBOX_BATCH_SIZE: '500' },
      handlerEnv: { LOG_LEVEL: 'info' },
    });
    expect(parseOptions([])).toMatchObject({ ticketingEnv: {}, handlerEnv: {} });
    expect(() => parseOptions(['--ticketing-env', 'linger=20'])).toThrow(/--ticketing-env takes NAME=value pairs/);
    expect(() => parseOptions(['--handler-env', 'PREFETCH=10'])).toThrow(/use --prefetch/);
  });
});

describe('a bench command line', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('When it asks for help, then the usage is printed and the exit code is 0; when it is wrong, what is wrong, the usage and 64', () => {
    const printed = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const complained = vi.spyOn(console, 'error').mockImplementation(() => undefined);

    expect(parseCommandLine(parseOptions, USAGE, ['--help'])).toBe(0);
    expect(printed).toHaveBeenCalledWith(USAGE);
    expect(parseCommandLine(parseOptions, USAGE, ['--count', 'many'])).toBe(64);
    expect(complained.mock.calls[0]?.[0]).toMatch(/--count must be a whole number[\s\S]*npm run bench/);
    expect(parseCommandLine(parseOptions, USAGE, ['--count', '100'])).toMatchObject({ count: 100 });
  });
});
