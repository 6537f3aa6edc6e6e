import { takeRandomBytes } from './random-pool.js';

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

function randomHex(bytes: number): string {
  // All zeros is the one invalid id; 2^-64 at worst, but cheap to rule out.
  for (;;) {
    const hex = takeRandomBytes(bytes).toString('hex');
    if (!ALL_ZEROS.test(hex)) return hex;
  }
}
