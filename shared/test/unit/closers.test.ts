import { captureLogs } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';
import { Closers } from '../../src/platform/closers.js';

describe('Closers', () => {
  it('When resources open while the stop runs, then each closes before those opened earlier', async () => {
    const closers = new Closers(captureLogs().log);
    const order: string[] = [];
    closers.add('pool', () => {
      order.push('pool');
    });
    closers.add('http server', async () => {
      // The start goes on meanwhile: its connection and consumer open on top of the server.
      closers.add('broker connection', () => {
        order.push('broker connection');
      });
      closers.add('consumer', () => {
        order.push('consumer');
      });
      order.push('http server');
    });

    await closers.closeAll();

    expect(order).toEqual(['http server', 'consumer', 'broker connection', 'pool']);
  });

  it('When a resource opens after the stop finished, then it is closed at once, and a failing closer does not stop the rest', async () => {
    const logs = captureLogs();
    const closers = new Closers(logs.log);
    const closed: string[] = [];
    closers.add('pool', () => {
      closed.push('pool');
    });
    closers.add('maintenance', () => {
      throw new Error('already stopped');
    });

    const result = await closers.closeAll();
    closers.add('consumer', () => {
      closed.push('consumer');
    });

    expect(result).toEqual({ failed: ['maintenance'] });
    expect(closed).toEqual(['pool', 'consumer']);
  });
});
