import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { encodeNotification } from '@notify/shared';
import { buildMessage } from '@notify/test-support/messages.js';
import pg from 'pg';
import { addCartItemWithNotification } from '../../ticketing-service/src/db/cart-item-repository.js';
import {
  findCartWithItems,
  findCartWithTicketType,
  insertCart,
} from '../../ticketing-service/src/db/cart-repository.js';
import {
  addCartItems,
  insertCarts,
  OUTBOX_COLUMNS,
  outboxArrays,
  outboxColumns,
  placeOrders,
} from '../../ticketing-service/src/db/gathered-writes.js';
import { placeOrderWithNotification } from '../../ticketing-service/src/db/order-repository.js';
import { claimDueRows, type OutboxInsert } from '../../ticketing-service/src/db/outbox-repository.js';
import { processCpu } from './cpu-accounting.js';

/** Seeded by the ticketing migrations (001_catalog.sql). */
const TICKET_TYPE = { id: 'a1000000-0000-4000-8000-000000000001', priceMinor: 4_500, currency: 'EUR' };
const EXCHANGE = 'bench.statements';
/** The relay's claim size under load: it takes what a few milliseconds of commits wrote. */
const CLAIM_BATCH = 10;
/** Rows of the outbox written by the "gathered" phases, kept apart from the flow's. */
export const GATHERED_EXCHANGE = 'bench.statements.gathered';
/** The API's most commands to a statement at its defaults (WRITE_BATCH_SIZE). */
const GATHERED = 16;

export type FlowWrite = 'alone' | 'gathered';

export type StatementCost = {
  statement: string;
  /** One of the checkout flow's own statements (the round-trip floor is not). */
  inFlow: boolean;
  /** One of the flow's three writes, as the API sends them (`alone`) or many carts to a statement (`gathered`). */
  write?: FlowWrite;
  /** Statements run (claims: rows claimed, the figure is per row). */
  count: number;
  /** CPU of the PostgreSQL backends per statement (or row), µs, and the part in the kernel. */
  backendMicros: number;
  kernelMicros: number;
  /** Wall time per statement on one connection, µs: every connection's own round trips. */
  wallMicros: number;
};

/** The backends' CPU for one checkout flow (its five statements and its two rows' claims), µs. */
export function backendMicrosPerFlow(costs: StatementCost[], carts: number): number {
  return costs
    .filter((cost) => cost.inFlow)
    .reduce((total, cost) => total + (cost.backendMicros * cost.count) / carts, 0);
}

/** The backends' CPU for a flow's three writes (insert the cart, add its line, place its order), µs. */
export function writeMicrosPerFlow(costs: StatementCost[], write: FlowWrite): number {
  return costs.filter((cost) => cost.write === write).reduce((total, cost) => total + cost.backendMicros, 0);
}

type Phase = {
  statement: string;
  inFlow: boolean;
  write?: FlowWrite;
  /** What `run` must add up to over the phase: one per cart, or (claims) two rows per cart. */
  expected: number;
  /** Once per cart; or, with `untilEmpty`, again and again until it answers 0. */
  untilEmpty?: boolean;
  /** Carts a call takes (default 1): call `index` takes carts from `index × perCall`. */
  perCall?: number;
  /** Runs item `index` on `client`; answers how many it counts for (claims: rows). */
  run: (client: pg.Client, index: number) => Promise<number>;
};

/**
 * The ticketing API's statements one by one, as the checkout flow runs them: `carts` flows'
 * worth of each, spread over `connections` connections, the backends' CPU read from /proc
 * before and after each statement's turn. Every write is checked: a cart that was not changed
 * stops the run. PostgreSQL must run on this machine.
 */
export async function measureStatementCosts(
  databaseUrl: string,
  { carts, connections }: { carts: number; connections: number },
): Promise<StatementCost[]> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new pg.Client({ connectionString: databaseUrl, statement_timeout: 60_000 });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    }),
  );
  try {
    const pids = await Promise.all(
      clients.map(
        async (client) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid,
      ),
    );
    const newCartIds = () => Array.from({ length: carts }, () => randomUUID());
    const phases = [
      ...checkoutFlowPhases(newCartIds()),
      ...gatheredOutboxPhases(carts),
      ...gatheredWritePhases(newCartIds()),
    ];
    const costs: StatementCost[] = [];
    for (const phase of phases) {
      costs.push(await measurePhase(phase, clients, pids as number[]));
    }
    return costs;
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

function checkoutFlowPhases(cartIds: string[]): Phase[] {
  const carts = cartIds.length;
  const cartAt = (index: number) => cartIds[index] as string;
  const done = (ok: boolean, what: string, index: number) => {
    if (!ok) throw new Error(`${what}: nothing for cart ${cartAt(index)}`);
    return 1;
  };
  const perCart = { inFlow: true, expected: carts };
  return [
    {
      statement: 'SELECT 1 (a round trip, no work)',
      inFlow: false,
      expected: carts,
      run: async (client) => {
        await client.query({ name: 'bench.select-1', text: 'SELECT 1' });
        return 1;
      },
    },
    {
      statement: 'insert the cart',
      ...perCart,
      write: 'alone',
      run: async (client, index) => {
        await insertCart(client, {
          cartId: cartAt(index),
          customerEmail: `bench-${index}@example.com`,
          customerName: 'Bench',
        });
        return 1;
      },
    },
    {
      statement: 'read the cart and the ticket type',
      ...perCart,
      run: async (client, index) =>
        done(Boolean(await findCartWithTicketType(client, cartAt(index), TICKET_TYPE.id)), 'read', index),
    },
    {
      statement: 'add the line, the version, the outbox row',
      ...perCart,
      write: 'alone',
      run: async (client, index) =>
        done(
          await addCartItemWithNotification(
            client,
            {
              cartId: cartAt(index),
              cartVersion: 0,
              ticketTypeId: TICKET_TYPE.id,
              quantity: 1,
              unitPriceMinor: TICKET_TYPE.priceMinor,
              currency: TICKET_TYPE.currency,
            },
            10,
            outboxRow(),
          ),
          'add',
          index,
        ),
    },
    {
      statement: 'read the cart and its lines',
      ...perCart,
      run: async (client, index) => done(Boolean(await findCartWithItems(client, cartAt(index))), 'read', index),
    },
    {
      statement: 'place the order, close the cart, the outbox row',
      ...perCart,
      write: 'alone',
      run: async (client, index) =>
        done(
          await placeOrderWithNotification(
            client,
            {
              orderId: randomUUID(),
              cartId: cartAt(index),
              cartVersion: 1,
              totalMinor: TICKET_TYPE.priceMinor,
              currency: TICKET_TYPE.currency,
            },
            outboxRow(),
          ),
          'checkout',
          index,
        ),
    },
    {
      statement: `relay: claim and mark published, batches of ${CLAIM_BATCH} (per row)`,
      inFlow: true,
      expected: 2 * carts,
      untilEmpty: true,
      run: async (client) => {
        await client.query('BEGIN');
        const rows = await claimDueRows(client, EXCHANGE, CLAIM_BATCH);
        await client.query('COMMIT');
        return rows.length;
      },
    },
  ];
}

/**
 * One outbox row per cart three ways: a statement and a commit each, as the API writes them now;
 * GATHERED statements in one transaction (their commits gathered); one statement of GATHERED rows
 * (their statements gathered too). Not the flow's statements: they bound what a command batcher
 * in the API could save on the row every notification writes, before anyone builds one.
 */
function gatheredOutboxPhases(carts: number): Phase[] {
  const rowsOfCall = (index: number) => Math.min(GATHERED, carts - index * GATHERED);
  const insertRows = async (client: pg.Client, count: number) =>
    written(await insertOutboxRowsGathered(client, Array.from({ length: count }, gatheredRow)), count, 'outbox insert');
  const gathered = { inFlow: false, expected: carts, perCall: GATHERED };
  return [
    {
      statement: 'an outbox row alone: its own statement and commit (per row)',
      inFlow: false,
      expected: carts,
      run: async (client) => insertRows(client, 1),
    },
    {
      statement: `outbox rows, ${GATHERED} statements in one transaction (per row)`,
      ...gathered,
      run: async (client, index) => {
        await client.query('BEGIN');
        let rows = 0;
        for (let row = 0; row < rowsOfCall(index); row++) rows += await insertRows(client, 1);
        await client.query('COMMIT');
        return rows;
      },
    },
    {
      statement: `outbox rows, ${GATHERED} in one statement (per row)`,
      ...gathered,
      run: async (client, index) => insertRows(client, rowsOfCall(index)),
    },
  ];
}

/**
 * The flow's three writes for other carts, GATHERED carts to a statement, as the API writes
 * concurrent commands (ticketing-service/src/db/gathered-writes.ts). Their rows go to GATHERED_EXCHANGE.
 */
function gatheredWritePhases(cartIds: string[]): Phase[] {
  const carts = cartIds.length;
  const cartsOfCall = (index: number) => cartIds.slice(index * GATHERED, (index + 1) * GATHERED);
  const gathered = { inFlow: false, write: 'gathered' as const, expected: carts, perCall: GATHERED };
  return [
    {
      statement: `insert the carts, ${GATHERED} to a statement (per cart)`,
      ...gathered,
      run: async (client, index) => {
        const batch = cartsOfCall(index).map((cartId) => ({
          cartId,
          customerEmail: 'bench@example.com',
          customerName: 'Bench',
        }));
        return written((await insertCarts(client, batch)).length, batch.length, 'gathered insert');
      },
    },
    {
      statement: `add the lines, the versions, the outbox rows, ${GATHERED} carts to a statement (per cart)`,
      ...gathered,
      run: async (client, index) => {
        const batch = cartsOfCall(index).map((cartId) => ({
          cartId,
          cartVersion: 0,
          ticketTypeId: TICKET_TYPE.id,
          quantity: 1,
          unitPriceMinor: TICKET_TYPE.priceMinor,
          currency: TICKET_TYPE.currency,
          notification: gatheredRow(),
        }));
        return written((await addCartItems(client, batch, 10)).size, batch.length, 'gathered add');
      },
    },
    {
      statement: `place the orders, close the carts, the outbox rows, ${GATHERED} carts to a statement (per cart)`,
      ...gathered,
      run: async (client, index) => {
        const batch = cartsOfCall(index).map((cartId) => ({
          orderId: randomUUID(),
          cartId,
          cartVersion: 1,
          totalMinor: TICKET_TYPE.priceMinor,
          currency: TICKET_TYPE.currency,
          notification: gatheredRow(),
        }));
        return written((await placeOrders(client, batch)).size, batch.length, 'gathered checkout');
      },
    },
  ];
}

/** Outbox rows alone, as many as given, in one statement: what every command writes besides its change. */
async function insertOutboxRowsGathered(client: pg.Client, rows: readonly OutboxInsert[]): Promise<number> {
  const result = await client.query({
    name: 'bench.gathered-outbox-rows',
    text: `INSERT INTO ticketing.outbox (${OUTBOX_COLUMNS}) SELECT * FROM unnest(${outboxArrays(1)})`,
    values: outboxColumns(rows),
  });
  return result.rowCount ?? 0;
}

/** Stops the run when a gathered write changed fewer rows than it was given. */
function written(count: number, expected: number, what: string): number {
  if (count !== expected) throw new Error(`${what}: ${count} of ${expected} rows written`);
  return count;
}

function gatheredRow(): OutboxInsert {
  return { exchange: GATHERED_EXCHANGE, encoded: encodeNotification(buildMessage(), 'bench-statements') };
}

async function measurePhase(phase: Phase, clients: pg.Client[], pids: number[]): Promise<StatementCost> {
  const before = await Promise.all(pids.map(processCpu));
  const startedAt = performance.now();
  let next = 0;
  let count = 0;
  await Promise.all(
    clients.map(async (client) => {
      for (;;) {
        const index = next;
        next += 1;
        if (!phase.untilEmpty && index * (phase.perCall ?? 1) >= phase.expected) return;
        const counted = await phase.run(client, index);
        if (phase.untilEmpty && counted === 0) return;
        count += counted;
      }
    }),
  );
  const wallMs = performance.now() - startedAt;
  const after = await Promise.all(pids.map(processCpu));
  if (count !== phase.expected) throw new Error(`${phase.statement}: ${count} of ${phase.expected}`);
  const sum = (key: 'ms' | 'kernelMs') =>
    after.reduce((total, cpu, i) => total + cpu[key] - (before[i]?.[key] ?? 0), 0);
  return {
    statement: phase.statement,
    inFlow: phase.inFlow,
    write: phase.write,
    count,
    backendMicros: (sum('ms') * 1_000) / count,
    kernelMicros: (sum('kernelMs') * 1_000) / count,
    wallMicros: (wallMs * 1_000 * clients.length) / count,
  };
}

/** A real message, encoded as the API stores it (a new tracking id each time). */
function outboxRow(): OutboxInsert {
  return { exchange: EXCHANGE, encoded: encodeNotification(buildMessage(), 'bench-statements') };
}
