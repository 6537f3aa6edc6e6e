import type { Options } from 'amqplib';
import { decodeUriComponentOrAsIs } from './decode-uri.js';
import { redactUrl } from './log-redaction.js';

/**
 * The nodes of one RabbitMQ cluster, as amqplib's recovery sees them. amqplib 2.x connects to one
 * URL and its recovery reconnects to that same URL; but it reads a URL given as an object afresh
 * on every attempt. So the connection gets `target`, one object whose fields are those of the
 * current node, and `advance()` points it at the next node after a lost connection or a failed
 * attempt: the next reconnect goes there, through the same recovery path (and `setup`) as ever.
 */
export type BrokerAddresses = {
  readonly target: Options.Connect;
  readonly size: number;
  /** The node the next attempt goes to, its password hidden: for log lines. */
  current: () => string;
  /** Moves to the next node, round robin. */
  advance: () => void;
  /** Every node, passwords hidden, comma-separated. */
  describe: () => string;
};

/** `as-given`: the first node first. `random-start`: instances given one list spread over the nodes. */
export type AddressOrder = 'as-given' | 'random-start';

export function brokerAddresses(
  urls: readonly string[],
  { heartbeatSeconds, order }: { heartbeatSeconds: number; order: AddressOrder },
): BrokerAddresses {
  if (urls.length === 0) throw new Error('at least one broker URL is needed');
  const nodes = urls.map((url) => toConnectOptions(url, heartbeatSeconds));
  let index = order === 'random-start' ? Math.floor(Math.random() * nodes.length) : 0;
  const target: Options.Connect = { ...nodes[index] };
  return {
    target,
    size: nodes.length,
    current: () => redactUrl(urls[index] as string),
    advance: () => {
      index = (index + 1) % nodes.length;
      Object.assign(target, nodes[index]);
    },
    describe: () => urls.map(redactUrl).join(','),
  };
}

/**
 * The object form of an AMQP URL, read as amqplib reads the string form: guest/guest when the URL
 * names no user, the vhost still escaped (amqplib unescapes it), the tuning parameters of its query.
 * Every key is present, so that assigning one node over another leaves nothing of the first.
 */
export function toConnectOptions(url: string, heartbeatSeconds: number): ConnectFields {
  const parsed = new URL(url);
  const query = parsed.searchParams;
  const number = (name: string) => (query.has(name) ? Number(query.get(name)) : undefined);
  const anonymous = parsed.username === '' && parsed.password === '';
  return {
    protocol: parsed.protocol.replace(/:$/, ''),
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? undefined : Number(parsed.port),
    username: anonymous ? undefined : decodeUriComponentOrAsIs(parsed.username),
    password: anonymous ? undefined : decodeUriComponentOrAsIs(parsed.password),
    vhost: parsed.pathname.length > 1 ? parsed.pathname.slice(1) : undefined,
    heartbeat: number('heartbeat') ?? heartbeatSeconds,
    frameMax: number('frameMax'),
    channelMax: number('channelMax'),
    locale: query.get('locale') ?? undefined,
  };
}

type ConnectKeys =
  | 'protocol'
  | 'hostname'
  | 'port'
  | 'username'
  | 'password'
  | 'vhost'
  | 'heartbeat'
  | 'frameMax'
  | 'channelMax'
  | 'locale';
type ConnectFields = { [Key in ConnectKeys]-?: Options.Connect[Key] | undefined };
