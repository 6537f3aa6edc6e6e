import { parseArgs } from 'node:util';

export type BenchOptions = {
  /** Notifications per closed-loop scenario (two per checkout flow). */
  count: number;
  /** Bound on the load phase of each closed-loop scenario: fewer notifications if the API is slower. */
  maxSeconds: number;
  /** Checkout flows in flight at once in the closed-loop scenarios. */
  concurrency: number;
  /** Provider latencies of the closed-loop scenarios, one scenario each. */
  latencies: number[];
  /**
   * Provider latencies of closed-loop scenarios whose flows create the cart with its ticket (two
   * requests per checkout instead of three), one scenario each; not what the targets count.
   */
  cartWithTickets: number[];
  /**
   * The handler's PREFETCH in the closed-loop, open-loop and drain scenarios, when given; unset, they
   * run at the handler's own default (`handlerDefaultPrefetch`), so "default settings" stays true when it changes.
   */
  prefetch: number | undefined;
  /**
   * Drain scenarios (the handler stopped while the API takes `drainCount` notifications, then
   * started: its own rate with the machine to itself): one per provider latency in `drain` at
   * `prefetch`, and one per prefetch in `sweep` at `sweepLatencyMs` (those take `sweepCount`).
   */
  drain: number[];
  /**
   * Notifications per drain, unpaced drain and SendGrid drain scenario, after the `warmUp` ones. A
   * drain starts its handler afresh: at 3,000 it lasted under two seconds, much of it the handler
   * compiling its hot paths; unpaced, 10,000 lasted two.
   */
  drainCount: number;
  /**
   * The same Mailjet drain with the handler's call budget (MAILJET_MAX_CALLS_PER_SECOND, 50 calls of
   * up to 50 emails a second by default) out of the way: what the handler and the cores can do.
   */
  unpaced: number[];
  /** Drain scenarios through SendGrid alone (EMAIL_PROVIDERS=sendgrid: one request per email), one per provider latency. */
  sendgrid: number[];
  sweep: number[];
  sweepLatencyMs: number;
  sweepCount: number;
  sweepSeconds: number;
  /** Open-loop scenarios: checkout flows started per second, one scenario each, for `rateSeconds`, at `rateLatencyMs`. */
  rates: number[];
  rateSeconds: number;
  rateLatencyMs: number;
  /** Messages or row pairs per baseline measurement (0: no baseline). */
  baselineCount: number;
  /** CPU-profile the handler, the ticketing service and the sandbox (node --cpu-prof) in every scenario. */
  profile: boolean;
  /**
   * Each scenario runs twice: on empty tables, then on a preloaded history of this many
   * notifications (with attempts), published outbox rows, idempotency keys and carts (with their
   * lines and orders). 0: empty only.
   */
  history: number;
  /** The whole run stops (children killed, databases dropped) past this. */
  timeoutSeconds: number;
  /**
   * Notifications sent through each closed-loop and open-loop scenario's fresh services, and
   * settled, before its measurement starts (0: measure from the first request). A drain of
   * `drainCount` takes this many more, and is measured once they are settled.
   */
  warmUp: number;
  /** Where latest.json / latest.md and the profiles go. */
  outDir: string;
  /** Write latest.json / latest.md (off for quick experiments: results go to a timestamped file only). */
  writeLatest: boolean;
  /** Run only the scenarios of these names (all when empty). */
  only: string[];
  /**
   * Instead of the default scenarios: the handler's drain on a three-node RabbitMQ cluster of the
   * run's own, with each count of handler processes in `clusterHandlers`, after the same drain on
   * the machine's single broker for comparison. Results go to cluster.json / cluster.md.
   */
  cluster: boolean;
  clusterHandlers: number[];
  /** Settings for every scenario's services, on top of the bench's own: what an A/B of one setting needs. */
  ticketingEnv: Record<string, string>;
  handlerEnv: Record<string, string>;
};

export const USAGE = `npm run bench -- [options]
  --count N            notifications per closed-loop scenario (default 20000; 2 per checkout flow)
  --max-seconds S      bound on each of those scenarios' load phase (default 90): fewer if the API is slower
  --concurrency N      checkout flows in flight (default 64)
  --latency L[,L...]   provider latencies in ms, one closed-loop scenario each (default 0,100,300)
  --cart-with-tickets L[,L...]  closed-loop scenarios whose flows create the cart with its ticket: two
                       requests per checkout instead of three (default 0; "none" to skip)
  --prefetch N         handler PREFETCH for those scenarios, the open-loop and the drain ones
                       (default: the handler's own default PREFETCH)
  --drain L[,L...]     handler drain scenarios at these provider latencies (default 0; "none" to skip)
  --unpaced L[,L...]   the same drain with the handler's Mailjet call budget lifted out of the way
                       (MAILJET_MAX_CALLS_PER_SECOND=10000): the handler's own rate (default 0; "none" to skip)
  --sendgrid L[,L...]  the same drain through SendGrid alone, one request per email (default 0; "none" to skip)
  --sweep P[,P...]     prefetch sweep, drain scenarios at --sweep-latency (default 10,50,200; "none" to skip)
  --sweep-latency L    provider latency of the sweep (default 100)
  --drain-count N      notifications per drain scenario, Mailjet (paced and unpaced) and SendGrid (default 20000)
  --sweep-count N      notifications per sweep scenario and per --cluster drain (default 3000)
  --sweep-seconds S    bound on each drain / sweep scenario's load phase (default 25)
  --rate R[,R...]      open-loop scenarios: checkout flows started per second (default 500,25; "none" to skip)
  --rate-seconds S     how long the open-loop scenario offers load (default 10)
  --rate-latency L     provider latency of the open-loop scenario (default 0)
  --baseline-count N   messages / row pairs per baseline measurement (default: --count; 0 to skip)
  --profile            node --cpu-prof on the handler, the ticketing service and the sandbox; summaries in the results
  --history N          run each scenario again on a preloaded history: N notifications with their attempts,
                       N published outbox rows, N idempotency keys, N carts with their lines and orders
                       (e.g. 1000000; default 0: empty tables only)
  --warm-up N          notifications through each closed- and open-loop scenario's services before it is
                       measured, all settled and left out of every figure; a drain of --drain-count drains
                       N more first, and counts its rate and CPU from there (default 2000; 0: measure cold)
  --timeout S          global bound on the run in seconds (default 900)
  --out DIR            results folder (default bench/results)
  --no-latest          do not overwrite latest.json / latest.md (timestamped file only)
  --only NAME[,NAME]   run only these scenarios (their names as the table shows them, e.g. drain-0ms-prefetch-50-sendgrid)
  --cluster            only the handler's drain (--drain latencies, --sweep-count) on a three-node RabbitMQ
                       cluster of the run's own with 1, 2, 3 handlers, after the same drain on the single
                       broker; writes cluster.json / cluster.md (needs root, rabbitmq-server, setpriv)
  --cluster-handlers N[,N...]  handler counts of the --cluster scenarios (default 1,2,3)
  --ticketing-env K=V[,K=V...] settings for the ticketing service in every scenario (e.g. OUTBOX_BATCH_LINGER_MS=20)
  --handler-env K=V[,K=V...]   settings for the handler in every scenario (PREFETCH: use --prefetch)`;

const DEFAULTS = {
  count: 20_000,
  'max-seconds': 90,
  concurrency: 64,
  latency: '0,100,300',
  'cart-with-tickets': '0',
  drain: '0',
  unpaced: '0',
  sendgrid: '0',
  sweep: '10,50,200',
  'sweep-latency': 100,
  'drain-count': 20_000,
  'sweep-count': 3_000,
  'sweep-seconds': 25,
  rate: '500,25',
  'rate-seconds': 10,
  'rate-latency': 0,
  'warm-up': 2_000,
  timeout: 900,
  out: 'bench/results',
  'cluster-handlers': '1,2,3',
};

export class UsageError extends Error {}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const text = { type: 'string' } as const;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      count: text,
      'max-seconds': text,
      concurrency: text,
      latency: text,
      'cart-with-tickets': text,
      prefetch: text,
      drain: text,
      unpaced: text,
      sendgrid: text,
      sweep: text,
      'sweep-latency': text,
      'drain-count': text,
      'sweep-count': text,
      'sweep-seconds': text,
      rate: text,
      'rate-seconds': text,
      'rate-latency': text,
      'baseline-count': text,
      profile: { type: 'boolean' },
      history: text,
      'warm-up': text,
      timeout: text,
      out: text,
      'no-latest': { type: 'boolean' },
      only: text,
      cluster: { type: 'boolean' },
      'cluster-handlers': text,
      'ticketing-env': text,
      'handler-env': text,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const whole = (name: keyof typeof DEFAULTS, min: number, max: number) =>
    wholeNumber(name, values[name] ?? String(DEFAULTS[name]), min, max);
  const count = whole('count', 2, 1_000_000);
  const optionalList = (
    name: 'cart-with-tickets' | 'drain' | 'unpaced' | 'sendgrid' | 'sweep' | 'rate',
    min: number,
    max: number,
  ) => {
    const raw = values[name] ?? DEFAULTS[name];
    return raw === 'none' || raw === '' ? [] : list(name, raw, min, max);
  };
  return {
    count,
    maxSeconds: whole('max-seconds', 1, 3_600),
    concurrency: whole('concurrency', 1, 2_000),
    latencies: list('latency', values.latency ?? DEFAULTS.latency, 0, 60_000),
    cartWithTickets: optionalList('cart-with-tickets', 0, 60_000),
    prefetch: values.prefetch === undefined ? undefined : wholeNumber('prefetch', values.prefetch, 1, 1_000),
    drain: optionalList('drain', 0, 60_000),
    unpaced: optionalList('unpaced', 0, 60_000),
    sendgrid: optionalList('sendgrid', 0, 60_000),
    sweep: optionalList('sweep', 1, 1_000),
    sweepLatencyMs: whole('sweep-latency', 0, 60_000),
    drainCount: whole('drain-count', 2, 1_000_000),
    sweepCount: whole('sweep-count', 2, 1_000_000),
    sweepSeconds: whole('sweep-seconds', 1, 3_600),
    rates: optionalList('rate', 1, 100_000),
    rateSeconds: whole('rate-seconds', 1, 600),
    rateLatencyMs: whole('rate-latency', 0, 60_000),
    // The baselines measure the machine's broker and database; a cluster run compares with its own drain.
    baselineCount: wholeNumber(
      'baseline-count',
      values['baseline-count'] ?? String(values.cluster ? 0 : count),
      0,
      10_000_000,
    ),
    profile: values.profile ?? false,
    history: wholeNumber('history', values.history ?? '0', 0, 10_000_000),
    warmUp: whole('warm-up', 0, 1_000_000),
    timeoutSeconds: whole('timeout', 10, 86_400),
    outDir: values.out ?? DEFAULTS.out,
    writeLatest: !values['no-latest'],
    only: (values.only ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    cluster: values.cluster ?? false,
    clusterHandlers: list('cluster-handlers', values['cluster-handlers'] ?? DEFAULTS['cluster-handlers'], 1, 10),
    ticketingEnv: settings('ticketing-env', values['ticketing-env']),
    handlerEnv: handlerSettings(values['handler-env']),
  };
}

/** The scenarios' PREFETCH is the bench's to set (--prefetch): the report prints it per scenario. */
function handlerSettings(raw: string | undefined): Record<string, string> {
  const env = settings('handler-env', raw);
  if ('PREFETCH' in env) throw new UsageError('--handler-env cannot set PREFETCH: use --prefetch');
  return env;
}

/** `K=V,K=V`: environment settings. Names as the services spell them, so that a typo fails here, not silently. */
function settings(name: string, raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw.trim() === '') return {};
  const entries = raw.split(',').map((item) => {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(item.trim());
    if (!match) throw new UsageError(`--${name} takes NAME=value pairs separated by commas, got "${item}"`);
    return [match[1] as string, match[2] as string] as const;
  });
  return Object.fromEntries(entries);
}

export function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  const value = Number(trimmed);
  if (value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function list(name: string, raw: string, min: number, max: number): number[] {
  const items = raw.split(',').map((item) => wholeNumber(name, item, min, max));
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`);
  return items;
}

/**
 * The options of a command, or the exit code when there is nothing to run: 0 after printing the
 * usage for --help, 64 (EX_USAGE) after printing what is wrong and the usage.
 */
export function parseCommandLine<T>(
  parse: (argv: string[]) => T | 'help',
  usage: string,
  argv: string[] = process.argv.slice(2),
): T | number {
  let options: T | 'help';
  try {
    options = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 64;
  }
  if (options !== 'help') return options;
  console.log(usage);
  return 0;
}
