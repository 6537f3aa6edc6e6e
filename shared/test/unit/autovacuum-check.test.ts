import { warnIfAutovacuumOff } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';

/** A database that answers SHOW autovacuum with `setting`, whatever the server the tests run on. */
const answering = (setting: string) => ({ query: async () => ({ rows: [{ autovacuum: setting }] }) }) as never;

describe('the start-up check of autovacuum', () => {
  const maintained = { tables: ['ticketing.outbox', 'ticketing.carts'], intervalMs: 60_000 };

  it('When the server runs with autovacuum off, then one warning names the tables the service maintains', async () => {
    const logs = captureLogs();

    const warned = await warnIfAutovacuumOff(answering('off'), logs.log, maintained);

    expect(warned).toBe(true);
    const lines = logs.lines.filter((line) => String(line.msg).startsWith('PostgreSQL autovacuum is off'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, maintainedTables: maintained.tables, maintenanceIntervalMs: 60_000 });
  });

  it('When autovacuum is on, then nothing is logged', async () => {
    const logs = captureLogs();

    const warned = await warnIfAutovacuumOff(answering('on'), logs.log, maintained);

    expect(warned).toBe(false);
    expect(logs.lines).toEqual([]);
  });
});
