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
    const faults = new FaultController({
      failNext: 5,
      hangNext: 5,
      latencyMs: 100,
      failRecipients: 'fail.example',
      refuseSenders: 'notify.example',
    });

    faults.clear();

    expect(faults.onSendCall()).toEqual({
      action: 'none',
      status: 500,
      latencyMs: 0,
      failDomain: null,
      refusedSenderDomain: null,
      retryAfterSeconds: null,
    });
  });
});

describe('FaultController: maxCallsPerSecond', () => {
  /** A clock the test moves by hand, in milliseconds. */
  const manualClock = () => {
    const clock = { ms: 1_000_000, now: () => clock.ms };
    return clock;
  };

  it('When 3 calls come in one second with a limit of 2, then the third is throttled', () => {
    const clock = manualClock();
    const faults = new FaultController({ maxCallsPerSecond: 2 }, clock.now);

    const first = actions(faults, 2);
    clock.ms += 999;

    expect([...first, ...actions(faults, 1)]).toEqual(['none', 'none', 'throttle']);
  });

  it('When a second has passed since the window opened, then a new window lets calls through again', () => {
    const clock = manualClock();
    const faults = new FaultController({ maxCallsPerSecond: 1 }, clock.now);
    expect(actions(faults, 3)).toEqual(['none', 'throttle', 'throttle']);

    clock.ms += 1_000;

    expect(actions(faults, 2)).toEqual(['none', 'throttle']);
  });

  it('When the window opened mid-second, then it lasts one second from its first call, not to the next wall-clock second', () => {
    const clock = manualClock();
    clock.ms = 1_000_900;
    const faults = new FaultController({ maxCallsPerSecond: 1 }, clock.now);
    actions(faults, 1);

    clock.ms += 200;

    expect(actions(faults, 1)).toEqual(['throttle']);
  });

  it('When maxCallsPerSecond is set again, then the next call opens a new window', () => {
    const clock = manualClock();
    const faults = new FaultController({ maxCallsPerSecond: 1 }, clock.now);
    actions(faults, 2);

    faults.set({ maxCallsPerSecond: 1 });

    expect(actions(faults, 2)).toEqual(['none', 'throttle']);
  });

  it('When maxCallsPerSecond is 0, then every call is throttled; null lifts the limit', () => {
    const faults = new FaultController({ maxCallsPerSecond: 0 }, manualClock().now);

    expect(actions(faults, 2)).toEqual(['throttle', 'throttle']);
    faults.set({ maxCallsPerSecond: null });
    expect(actions(faults, 2)).toEqual(['none', 'none']);
  });

  it('When the limit and other faults apply to a call, then hang and reset win over it and it wins over fail', () => {
    const faults = new FaultController(
      { maxCallsPerSecond: 0, hangNext: 1, resetNext: 2, failNext: 4 },
      manualClock().now,
    );

    expect(actions(faults, 4)).toEqual(['hang', 'reset', 'throttle', 'throttle']);
    expect(faults.current().failNext).toBe(0);
  });

  it('When retryAfterSeconds is set, then each decision carries it, and clear removes it', () => {
    const faults = new FaultController({ retryAfterSeconds: 7 });

    expect(faults.onSendCall().retryAfterSeconds).toBe(7);
    faults.clear();
    expect(faults.current()).toMatchObject({ maxCallsPerSecond: null, retryAfterSeconds: null });
  });

  it('When the new settings are not whole numbers in range, then set throws naming them', () => {
    const faults = new FaultController();

    expect(() => faults.set({ maxCallsPerSecond: 1.5, retryAfterSeconds: -1 })).toThrow(
      /maxCallsPerSecond.*retryAfterSeconds/,
    );
  });
});
