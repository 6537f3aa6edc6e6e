import { parseTraceparent } from '@notify/shared/platform';
import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  openPool,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

describe('ticketing trace context', () => {
  const prefix = uniquePrefix('trace');
  const logs = captureLogs('info');
  let service: TicketingService;
  let api: ApiClient;
  let broker: TestBroker;
  let pool: pg.Pool;
  let queue: string;

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    queue = await bindTestQueue(broker.channel, prefix, 'trace');
    service = await startService(testConfig(prefix), logs.log);
    api = apiClient(service);
  });

  afterAll(async () => {
    await service?.stop();
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix, [queue]);
  });

  /** Adds a ticket with these headers; gives the stored trace id and the published message's traceparent. */
  async function addTicketTraced(headers: Record<string, string>) {
    const { cartId } = await api.createCart();
    const { status, body } = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1, headers);
    expect(status).toBe(201);
    const trackingId: string = body.notification.trackingId;
    const stored = await pool.query<{ traceId: string | null }>(
      `SELECT trace_id AS "traceId" FROM ticketing.outbox WHERE tracking_id = $1`,
      [trackingId],
    );
    const [message] = (await collectMessages(broker.channel, queue, [trackingId])).filter(
      (candidate) => candidate.properties.messageId === trackingId,
    );
    return {
      cartId,
      storedTraceId: stored.rows[0]?.traceId,
      traceparent: message?.properties.headers?.traceparent as unknown,
    };
  }

  it("When a request carries a traceparent, then the outbox row and the published message continue the caller's trace", async () => {
    const { cartId, storedTraceId, traceparent } = await addTicketTraced({
      traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`,
    });

    expect(storedTraceId).toBe(CALLER_TRACE_ID);
    const published = parseTraceparent(traceparent);
    expect(published).toMatchObject({ traceId: CALLER_TRACE_ID, flags: '01' });
    // The service's own span is the consumer's parent, not the caller's.
    expect(published?.spanId).not.toBe(CALLER_SPAN_ID);
    const requestLine = await waitFor(
      () =>
        logs.lines.find(
          (line) =>
            line.msg === 'request completed' && (line.req as { url?: string }).url === `/carts/${cartId}/tickets`,
        ),
      { what: 'the request log line' },
    );
    expect(requestLine).toMatchObject({ traceId: CALLER_TRACE_ID });
  });

  it('When a request carries no traceparent, then a new valid trace is stored and published', async () => {
    const first = await addTicketTraced({});
    const second = await addTicketTraced({});

    expect(first.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(parseTraceparent(first.traceparent)?.traceId).toBe(first.storedTraceId);
    expect(second.storedTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(second.storedTraceId).not.toBe(first.storedTraceId);
  });

  it('When the traceparent is malformed, then it is ignored and a new trace starts', async () => {
    const { storedTraceId, traceparent } = await addTicketTraced({
      traceparent: `00-${CALLER_TRACE_ID.toUpperCase()}-${CALLER_SPAN_ID}-01`,
    });

    expect(storedTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(storedTraceId).not.toBe(CALLER_TRACE_ID);
    expect(parseTraceparent(traceparent)?.traceId).toBe(storedTraceId);
  });
});
