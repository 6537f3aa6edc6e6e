import { describe, expect, it } from 'vitest';
import { classifyDatabaseError, isDriverConnectionError } from '../../src/platform/database-errors.js';

const withCode = (code: string) => Object.assign(new Error('x'), { code });

describe('database error classification', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a write to a socket the server closed (five letters, like a SQLSTATE)', withCode('EPIPE')],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['a server shutting down', withCode('57P01')],
    ['a server starting up', withCode('57P03')],
    ['a connection failure', withCode('08006')],
    ['too many connections', withCode('53300')],
    ['a read-only standby (a failover under way)', withCode('25006')],
    ['a password no longer accepted', withCode('28P01')],
    ['a database that does not exist (yet)', withCode('3D000')],
    ['a grant revoked', withCode('42501')],
    ['a table not there (a restore under way)', withCode('42P01')],
    ['a column not there', withCode('42703')],
    ['a lock not available in time', withCode('55P03')],
    ['an object in use', withCode('55006')],
    ['a snapshot too old', withCode('72000')],
    ['a statement whose completion is unknown', withCode('40003')],
    ['data corrupted on disk', withCode('XX001')],
    ['an index corrupted', withCode('XX002')],
  ])('When the error is %s, then the database counts as away', (_, error) => {
    expect(classifyDatabaseError(error)).toBe('unavailable');
  });

  it.each([
    ['a NUL in text', withCode('22P05')],
    ['a date out of range', withCode('22008')],
    ['a unique violation', withCode('23505')],
    ['a trigger raising an exception', withCode('P0001')],
    ['a value past a limit (an index row too large)', withCode('54000')],
  ])('When the error is %s, then the statement was refused', (_, error) => {
    expect(classifyDatabaseError(error)).toBe('refused');
  });

  it('When the error is a deadlock or a serialization failure, then running it again will do', () => {
    expect(classifyDatabaseError(withCode('40P01'))).toBe('conflict');
    expect(classifyDatabaseError(withCode('40001'))).toBe('conflict');
  });

  it('When pg gave up on the connection itself, then it says so; a server error or a bug of ours is not that', () => {
    expect(isDriverConnectionError(new Error('Query read timeout'))).toBe(true);
    expect(isDriverConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDriverConnectionError(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(
      isDriverConnectionError(
        Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      ),
    ).toBe(false);
    expect(isDriverConnectionError(new TypeError("Cannot read properties of undefined (reading 'rowCount')"))).toBe(
      false,
    );
  });
});
