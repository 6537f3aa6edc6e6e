import { describe, expect, it } from 'vitest';
import { FaultController, mulberry32 } from '../../src/faults.js';
import { FaultSettingsError } from '../../src/index.js';

const actions = (faults: FaultController, calls: number) =>
  Array.from({ length: calls }, () => faults.onSendCall().action);

describe('FaultController', () => {
  it('When mulberry32 gets the same seed twice, then it yields the same sequence in [0, 1)', () => {
    const first = Array.from({ length: 5 }, mulberry32(42));
    const second = Array.from({ length: 5 }, mulberry32(42));

    expect(second).toEqual(first);
    expect(first.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(Array.from({ length: 5 }, mulberry32(43))).not.toEqual(first);
  });

  it('When failNext is 2, then exactly the next two calls fail and the counter reaches 0', () => {
    const faults = new FaultController({ failNext: 2 });

    expect(actions(faults, 3)).toEqual(['fail', 'fail', 'none']);
    expect(faults.current().failNext).toBe(0);
  });

  it('When hang, reset and fail all apply to a call, then hang wins and every counter counts the call', () => {
    const faults = new FaultController({ hangNext: 1, resetNext: 2, failNext: 3 });

    expect(actions(faults, 4)).toEqual(['hang', 'reset', 'fail', 'none']);
  });

  it('When the same seed and failRate are set again, then the same calls fail', () => {
    const faults = new FaultController();
    faults.set({ failRate: 0.3, seed: 7 });
    const first = actions(faults, 50);
    faults.set({ failRate: 0.3, seed: 7 });

    expect(actions(faults, 50)).toEqual(first);
    expect(first.filter((action) => action === 'fail').length).toBeGreaterThan(5);
  });

  it('When no seed is given, then one is chosen and reported, so the run can be repeated', () => {
    const faults = new FaultController({ failRate: 0.5 });
    const { seed } = faults.current();
    const first = actions(faults, 30);

    const replay = new FaultController({ failRate: 0.5, seed });

    expect(actions(replay, 30)).toEqual(first);
  });

  it('When settings are invalid, then set throws naming each field and changes nothing', () => {
    const faults = new FaultController({ latencyMs: 5 });

    const attempt = () => faults.set({ latencyMs: -1, failRecipients: 'not a domain' });

    expect(attempt).toThrow(FaultSettingsError);
    expect(attempt).toThrow(/latencyMs.*failRecipients/);
    expect(faults.current().latencyMs).toBe(5);
  });

  it('When cleared, then no call is affected', () => {
    const faults = new FaultController({ failNext: 5, hangNext: 5, latencyMs: 100, failRecipients: 'fail.example' });

    faults.clear();

    expect(faults.onSendCall()).toEqual({ action: 'none', status: 500, latencyMs: 0, failDomain: null });
  });
});
