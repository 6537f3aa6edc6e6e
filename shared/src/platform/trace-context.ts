import { randomFillSync } from 'node:crypto';

/** The HTTP header, and the AMQP header, that carry a W3C trace context between services. */
export const TRACEPARENT_HEADER = 'traceparent';

/** One W3C Trace Context (https://www.w3.org/TR/trace-context/): lowercase hex throughout. */
export type TraceContext = {
  /** 32 hex digits, the whole distributed trace. */
  traceId: string;
  /** 16 hex digits, the span that sent (or will send) the header: the receiver's parent. */
  spanId: string;
  /** 2 hex digits; 01 is "sampled". */
  flags: string;
};

// Version 00 is exactly these four fields. A later version may append fields after a dash, and
// the spec asks a reader that knows only 00 to parse the first four and ignore the rest.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZEROS = /^0+$/;

/** The context a `traceparent` value carries, or undefined when it is absent or malformed. */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version = '', traceId = '', spanId = '', flags = '', rest] = match;
  // ff is forbidden; version 00 allows nothing after the flags; all-zero ids mean "no trace".
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ALL_ZEROS.test(traceId) || ALL_ZEROS.test(spanId)) return undefined;
  return { traceId, spanId, flags };
}

/** The version 00 header value: `00-<traceId>-<spanId>-<flags>`. */
export function formatTraceparent({ traceId, spanId, flags }: TraceContext): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

/** A new trace: random trace and span ids, sampled. */
export function newTraceContext(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), flags: '01' };
}

/** This service's own span in the caller's trace: same trace id and flags, a new span id. */
export function childTraceContext(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: randomHex(8), flags: parent.flags };
}

/**
 * The context for work started by an incoming request or message: a child of the caller's when
 * its `traceparent` is valid, otherwise a new trace (a malformed header is ignored, per the spec).
 */
export function continueTrace(traceparent: unknown): TraceContext {
  const parent = parseTraceparent(traceparent);
  return parent ? childTraceContext(parent) : newTraceContext();
}

// One randomBytes call per id is a call into OpenSSL each time: 3.5 % of the ticketing service's
// CPU and 6 % of the handler's at 1,000 notifications/s (bench --profile). Ids are cut from a pool
// of random bytes instead, refilled 4 KiB at a time, as crypto.randomUUID does for its own.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  // All zeros is the one invalid id; 2^-64 at worst, but cheap to rule out.
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!ALL_ZEROS.test(hex)) return hex;
  }
}
