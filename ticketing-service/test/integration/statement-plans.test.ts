import { randomUUID } from 'node:crypto';
import { encodeNotification } from '@notify/shared';
import { createPool } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { checkStatementPlans, type PlanReport, statementRecorder } from '@notify/test-support/statement-plans.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { preloadHistory } from '@notify/test-support/system/history.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addCartItemWithNotification } from '../../src/db/cart-item-repository.js';
import {
  findCartWithItems,
  findCartWithTicketType,
  insertCart,
  insertCartWithLines,
} from '../../src/db/cart-repository.js';
import { findTicketTypes } from '../../src/db/catalog-repository.js';
import { addCartItems, insertCarts, insertCartsWithLines, placeOrders } from '../../src/db/gathered-writes.js';
import {
  claimIdempotencyKey,
  findIdempotencyKey,
  purgeExpiredKeys,
  saveIdempotentResponse,
} from '../../src/db/idempotency-key-repository.js';
import { placeOrderWithNotification } from '../../src/db/order-repository.js';
import { claimDueRows, purgePublished, readOutboxBacklog, releaseUnpublished } from '../../src/db/outbox-repository.js';
import { migrateTicketingDatabase } from '../../src/service.js';
import { TICKET_TYPES } from '../support/harness.js';

const HOT_TABLES = [
  'ticketing.carts',
  'ticketing.cart_items',
  'ticketing.orders',
  'ticketing.outbox',
  'ticketing.idempotency_keys',
];
const HISTORY_ROWS = 200_000;
const EXCHANGE = 'ticketing.events';

/**
 * The statements of a checkout flow, alone and gathered for several carts, with an Idempotency-Key, of the relay's batch of 200, of a
 * metrics scrape, and of the maintenance job's batches.
 */
async function recordHotStatements() {
  const recorder = statementRecorder();
  const { db } = recorder;
  const cartId = randomUUID();
  const key = `plans-${randomUUID()}`;
  const ids = Array.from({ length: 200 }, (_, index) => String(1_000 + index));
  await recorder.record('insert cart', () =>
    insertCart(db, { cartId, customerEmail: 'ada@example.com', customerName: 'Ada' }),
  );
  const notification = () => ({
    exchange: EXCHANGE,
    encoded: encodeNotification(buildMessage(), 'plans'),
    traceId: 'a'.repeat(32),
  });
  await recorder.record('find cart with items', () => findCartWithItems(db, cartId));
  await recorder.record('find cart with ticket type', () =>
    findCartWithTicketType(db, cartId, TICKET_TYPES.jazzStanding.id),
  );
  await recorder.record('add cart item with notification', () =>
    addCartItemWithNotification(
      db,
      {
        cartId,
        cartVersion: 0,
        ticketTypeId: TICKET_TYPES.jazzStanding.id,
        quantity: 2,
        unitPriceMinor: 4500,
        currency: 'EUR',
      },
      1000,
      notification(),
    ),
  );
  await recorder.record('place order with notification', () =>
    placeOrderWithNotification(
      db,
      { orderId: randomUUID(), cartId, cartVersion: 1, totalMinor: 9000, currency: 'EUR' },
      notification(),
    ),
  );
  // The same three writes for several carts at once, as concurrent commands send them.
  const gathered = [randomUUID(), randomUUID()];
  await recorder.record('insert carts, gathered', () =>
    insertCarts(
      db,
      gathered.map((id) => ({ cartId: id, customerEmail: 'ada@example.com', customerName: 'Ada' })),
    ),
  );
  await recorder.record('insert carts with lines and notifications, gathered', () =>
    insertCartsWithLines(
      db,
      [randomUUID(), randomUUID()].map((id) => ({
        cartId: id,
        customerEmail: 'grace@example.com',
        customerName: 'Grace',
        currency: 'EUR',
        lines: [{ ticketTypeId: TICKET_TYPES.jazzStanding.id, quantity: 2, unitPriceMinor: 4500 }],
        notification: notification(),
      })),
    ),
  );
  await recorder.record('add cart items with notifications, gathered', () =>
    addCartItems(
      db,
      gathered.map((id) => ({
        cartId: id,
        cartVersion: 0,
        ticketTypeId: TICKET_TYPES.jazzStanding.id,
        quantity: 1,
        unitPriceMinor: 4500,
        currency: 'EUR',
        notification: notification(),
      })),
      1000,
    ),
  );
  await recorder.record('place orders with notifications, gathered', () =>
    placeOrders(
      db,
      gathered.map((id) => ({
        orderId: randomUUID(),
        cartId: id,
        cartVersion: 1,
        totalMinor: 4500,
        currency: 'EUR',
        notification: notification(),
      })),
    ),
  );
  await recorder.record('find ticket types', () =>
    findTicketTypes(db, [TICKET_TYPES.jazzStanding.id, TICKET_TYPES.jazzBalcony.id]),
  );
  await recorder.record('insert cart with lines and notification', () =>
    insertCartWithLines(
      db,
      { cartId: randomUUID(), customerEmail: 'grace@example.com', customerName: 'Grace', currency: 'EUR' },
      [
        { ticketTypeId: TICKET_TYPES.jazzStanding.id, quantity: 2, unitPriceMinor: 4500 },
        { ticketTypeId: TICKET_TYPES.jazzBalcony.id, quantity: 1, unitPriceMinor: 6500 },
      ],
      notification(),
    ),
  );
  await recorder.record('claim idempotency key', () => claimIdempotencyKey(db, key, 'f'.repeat(64), 24));
  await recorder.record('find idempotency key', () => findIdempotencyKey(db, key));
  await recorder.record('save idempotent response', () => saveIdempotentResponse(db, key, 201, { cartId }));
  await recorder.record('relay claim and mark', () => claimDueRows(db, EXCHANGE, 200));
  await recorder.record('relay release unpublished', () =>
    releaseUnpublished(
      db,
      [...ids.slice(0, 5).map((id) => ({ id, error: 'returned: NO_ROUTE', refused: true })), { id: ids[5] as string }],
      30_000,
    ),
  );
  await recorder.record('outbox backlog of a scrape', () => readOutboxBacklog(db, EXCHANGE, 100_000));
  await recorder.record('purge published outbox rows', () => purgePublished(db, 24, 1_000));
  await recorder.record('purge expired keys', () => purgeExpiredKeys(db, 24, 1_000));
  // And with a retention every history row is past: a full batch to take, as after a long pause.
  await recorder.record('purge published outbox rows, a full batch due', () => purgePublished(db, 0, 1_000));
  await recorder.record('purge expired keys, a full batch due', () => purgeExpiredKeys(db, 0, 1_000));
  return recorder.statements;
}

describe('hot statements of the ticketing service (plans on large tables with stale statistics)', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_ticketing_plans`;
  let pool: pg.Pool;
  let report: PlanReport;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrateTicketingDatabase(url, silentLogger);
    // Sessions as the service opens them: the same factory, the same settings, but for the statement
    // timeout, which changes no plan: the history's chunks of 100,000 rows can outlast the 10 s
    // default on a busy machine (seen in CI).
    pool = createPool(
      { url, applicationName: 'statement-plans', maxConnections: 2, statementTimeoutMs: 120_000 },
      silentLogger,
    );
    report = await checkStatementPlans({
      pool,
      tables: HOT_TABLES,
      statements: await recordHotStatements(),
      fill: () => preloadHistory(pool, { outbox: HISTORY_ROWS, idempotencyKeys: HISTORY_ROWS, carts: HISTORY_ROWS }),
    });
  }, 180_000);
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it('When a prepared statement kept the plan it got on the empty tables, then that plan still reaches rows through an index', () => {
    expect(report.keptFromEmpty).toEqual([]);
  });

  it('When the statements are planned for their parameters on large tables with stale statistics, then every read goes through an index', () => {
    expect(report.custom).toEqual([]);
  });

  it('When their generic plans are made on large tables with stale statistics, then every read goes through an index', () => {
    expect(report.generic).toEqual([]);
  });

  it('When a session without the services’ enable_seqscan = off plans them on fresh statistics, then every read still goes through an index', () => {
    expect(report.withoutSessionOptions).toEqual([]);
  });
});
