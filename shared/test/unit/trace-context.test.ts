import {
  childTraceContext,
  continueTrace,
  formatTraceparent,
  newTraceContext,
  parseTraceparent,
} from '@notify/shared/platform';
import { describe, expect, it } from 'vitest';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;
const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

describe('parseTraceparent', () => {
  it('When the header is the spec example, then its trace id, span id and flags come out', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, flags: '01' });
  });

  it('When a later version appends fields, then the first four are read', () => {
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-00-what-comes-next`)).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      flags: '00',
    });
  });

  it.each([
    ['absent', undefined],
    ['not a string', 42],
    ['empty', ''],
    ['uppercase hex', VALID.toUpperCase()],
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['version 00 with a fifth field', `${VALID}-extra`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['a long span id', `00-${TRACE_ID}-${SPAN_ID}0-01`],
    ['a non-hex flag', `00-${TRACE_ID}-${SPAN_ID}-0g`],
    ['a different separator', VALID.replaceAll('-', '_')],
  ])('When the header is %s, then it is ignored', (_label, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe('formatTraceparent', () => {
  it('When a parsed context is formatted, then the header comes back unchanged', () => {
    expect(formatTraceparent(parseTraceparent(VALID)!)).toBe(VALID);
  });
});

describe('newTraceContext', () => {
  it('When a trace starts, then it has random valid ids and the sampled flag', () => {
    const first = newTraceContext();
    const second = newTraceContext();

    expect(formatTraceparent(first)).toMatch(FORMAT);
    expect(parseTraceparent(formatTraceparent(first))).toEqual(first);
    expect(first.flags).toBe('01');
    expect(second.traceId).not.toBe(first.traceId);
    expect(second.spanId).not.toBe(first.spanId);
  });

  it('When thousands of traces start, across many refills of the random pool, then no id repeats and each is valid', () => {
    // 24 bytes a trace: 2,000 of them refill the 4 KiB pool about a dozen times.
    const traces = Array.from({ length: 2_000 }, () => newTraceContext());
    const ids = traces.flatMap((trace) => [trace.traceId, trace.spanId]);

    expect(new Set(ids).size).toBe(ids.length);
    for (const trace of traces) expect(formatTraceparent(trace)).toMatch(FORMAT);
  });
});

describe('continueTrace', () => {
  it("When the caller's header is valid, then the trace and flags continue under a new span", () => {
    const context = continueTrace(`00-${TRACE_ID}-${SPAN_ID}-00`);

    expect(context).toMatchObject({ traceId: TRACE_ID, flags: '00' });
    expect(context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(context.spanId).not.toBe(SPAN_ID);
  });

  it('When the header is malformed, then a new sampled trace starts', () => {
    const context = continueTrace(`00-${TRACE_ID}-${SPAN_ID}`);

    expect(context.traceId).not.toBe(TRACE_ID);
    expect(formatTraceparent(context)).toMatch(FORMAT);
    expect(context.flags).toBe('01');
  });

  it('When a child is made, then only the span id changes', () => {
    const parent = newTraceContext();
    const child = childTraceContext(parent);

    expect(child).toMatchObject({ traceId: parent.traceId, flags: parent.flags });
    expect(child.spanId).not.toBe(parent.spanId);
  });
});
