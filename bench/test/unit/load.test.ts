import { describe, expect, it } from 'vitest';
import { runOpenLoop } from '../../lib/load.js';

describe('runOpenLoop', () => {
  it('When the run’s deadline comes before the schedule’s end, then the flows it kept from starting count as not started', async () => {
    // Nothing listens there, and with the deadline already past no request goes out.
    const result = await runOpenLoop('http://127.0.0.1:9', {
      rate: 10,
      seconds: 3,
      maxInFlight: 4,
      deadline: Date.now() - 1,
    });

    expect(result.requests).toBe(0);
    expect(result.flowsNotStarted).toBe(30);
  });
});
