import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../lib/cli.js';
import { handlerDefaultPrefetch } from '../../lib/handler-defaults.js';
import { planScenarios } from '../../lib/plan.js';

const options = (...argv: string[]) => {
  const parsed = parseOptions(argv);
  if (parsed === 'help') throw new Error('unexpected help');
  return parsed;
};

describe('bench scenario plan', () => {
  it('When --prefetch is not given, then closed, open and drain scenarios run at the handler’s default; the sweep keeps its own', () => {
    const specs = planScenarios(options('--sendgrid', 'none'), 137);
    const byName = Object.fromEntries(specs.map((spec) => [spec.name, spec.prefetch]));
    expect(byName).toEqual({
      'closed-0ms': 137,
      'closed-100ms': 137,
      'closed-300ms': 137,
      'closed-0ms-cart-with-tickets': 137,
      'open-500cps-0ms': 137,
      'open-25cps-0ms': 137,
      'drain-0ms-prefetch-137': 137,
      'drain-0ms-prefetch-137-unpaced': 137,
      'sweep-100ms-prefetch-10': 10,
      'sweep-100ms-prefetch-50': 50,
      'sweep-100ms-prefetch-200': 200,
    });
  });

  it('When nothing is given, then drains take 20,000 notifications and the sweep 3,000; each count has its option', () => {
    const counts = (...argv: string[]) =>
      Object.fromEntries(
        planScenarios(options(...argv), 137).map((spec) => [spec.name, 'notifications' in spec && spec.notifications]),
      );
    expect(counts('--latency', '0', '--rate', 'none', '--sweep', '10')).toEqual({
      'closed-0ms': 20_000,
      'closed-0ms-cart-with-tickets': 20_000,
      'drain-0ms-prefetch-137': 20_000,
      'drain-0ms-prefetch-137-unpaced': 20_000,
      'drain-0ms-prefetch-137-sendgrid': 20_000,
      'sweep-100ms-prefetch-10': 3_000,
    });
    expect(
      counts('--latency', '0', '--rate', 'none', '--sweep', '10', '--drain-count', '500', '--sweep-count', '40'),
    ).toMatchObject({
      'drain-0ms-prefetch-137': 500,
      'drain-0ms-prefetch-137-unpaced': 500,
      'drain-0ms-prefetch-137-sendgrid': 500,
      'sweep-100ms-prefetch-10': 40,
    });
  });

  it('When nothing is said of the warm-up, then the Mailjet and SendGrid drains drain 2,000 first, the sweeps none; --warm-up sets it for all, 0 for none', () => {
    const warmUps = (...argv: string[]) =>
      Object.fromEntries(
        planScenarios(options('--latency', '0', '--rate', 'none', '--sweep', '10', ...argv), 137)
          .filter((spec) => spec.mode === 'drain')
          .map((spec) => [spec.name, spec.drainWarmUp]),
      );
    expect(warmUps()).toEqual({
      'drain-0ms-prefetch-137': 2_000,
      'drain-0ms-prefetch-137-unpaced': 2_000,
      'drain-0ms-prefetch-137-sendgrid': 2_000,
      'sweep-100ms-prefetch-10': undefined,
    });
    expect(warmUps('--warm-up', '500')).toMatchObject({ 'drain-0ms-prefetch-137-unpaced': 500 });
    expect(Object.values(warmUps('--warm-up', '0'))).toEqual([undefined, undefined, undefined, undefined]);
    const cluster = planScenarios(options('--cluster', '--drain', '0'), 137);
    expect(cluster.map((spec) => spec.drainWarmUp)).toEqual(cluster.map(() => undefined));
  });

  it('When nothing is said of flows, then one closed loop creates its carts with their tickets and the others take three requests; --cart-with-tickets none drops it', () => {
    const flows = (...argv: string[]) =>
      Object.fromEntries(
        planScenarios(
          options(
            '--rate',
            'none',
            '--drain',
            'none',
            '--unpaced',
            'none',
            '--sendgrid',
            'none',
            '--sweep',
            'none',
            ...argv,
          ),
          137,
        ).map((spec) => [spec.name, spec.flow]),
      );
    expect(flows()).toEqual({
      'closed-0ms': undefined,
      'closed-100ms': undefined,
      'closed-300ms': undefined,
      'closed-0ms-cart-with-tickets': 'cart-with-tickets',
    });
    expect(Object.keys(flows('--cart-with-tickets', 'none'))).toEqual(['closed-0ms', 'closed-100ms', 'closed-300ms']);
    expect(Object.keys(flows('--latency', '0', '--cart-with-tickets', '100'))).toEqual([
      'closed-0ms',
      'closed-100ms-cart-with-tickets',
    ]);
  });

  it('When --prefetch is given, then it wins over the handler’s default', () => {
    const specs = planScenarios(options('--prefetch', '200', '--sweep', 'none', '--sendgrid', 'none'), 137);
    expect(specs.map((spec) => spec.prefetch)).toEqual(specs.map(() => 200));
  });

  it('When service settings are given, then every scenario carries them', () => {
    const specs = planScenarios(options('--ticketing-env', 'OUTBOX_BATCH_LINGER_MS=20', '--sendgrid', 'none'), 137);
    expect(specs.length).toBeGreaterThan(1);
    for (const spec of specs) {
      expect(spec.ticketingEnv).toEqual({ OUTBOX_BATCH_LINGER_MS: '20' });
      expect(spec.handlerEnv).toEqual({});
    }
  });

  it('When a warm-up is asked for, then closed and open scenarios carry it and drains, which restart the handler, do not', () => {
    const warmUps = (...argv: string[]) =>
      Object.fromEntries(
        planScenarios(options('--sweep', 'none', '--sendgrid', 'none', ...argv), 137).map((spec) => [
          spec.name,
          spec.warmUpNotifications,
        ]),
      );
    expect(warmUps()).toEqual({
      'closed-0ms': 2_000,
      'closed-100ms': 2_000,
      'closed-300ms': 2_000,
      'closed-0ms-cart-with-tickets': 2_000,
      'open-500cps-0ms': 2_000,
      'open-25cps-0ms': 2_000,
      'drain-0ms-prefetch-137': undefined,
      'drain-0ms-prefetch-137-unpaced': undefined,
    });
    expect(Object.values(warmUps('--warm-up', '0', '--drain', 'none', '--unpaced', 'none'))).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    expect(() => options('--warm-up', 'lots')).toThrow(/--warm-up must be a whole number/);
  });

  it('When nothing is said of pacing, then only the unpaced drain lifts the Mailjet call budget; --unpaced none drops it', () => {
    const budgets = (...argv: string[]) =>
      Object.fromEntries(
        planScenarios(options('--latency', '0', '--rate', 'none', '--sweep', '10', ...argv), 137).map((spec) => [
          spec.name,
          spec.mailjetCallsPerSecond,
        ]),
      );
    expect(budgets()).toEqual({
      'closed-0ms': undefined,
      'drain-0ms-prefetch-137': undefined,
      'drain-0ms-prefetch-137-unpaced': 10_000,
      'drain-0ms-prefetch-137-sendgrid': undefined,
      'sweep-100ms-prefetch-10': undefined,
    });
    expect(Object.keys(budgets('--unpaced', 'none'))).not.toContain('drain-0ms-prefetch-137-unpaced');
    expect(Object.keys(budgets('--unpaced', '0,100'))).toContain('drain-100ms-prefetch-137-unpaced');
  });

  it('When --cluster is given without --prefetch, then its drains run at the handler’s default too', () => {
    const specs = planScenarios(options('--cluster'), 137);
    expect(specs.map((spec) => spec.prefetch)).toEqual([137, 137, 137, 137]);
  });

  it('When the handler’s default is read, then it is what its config loads from an empty env', async () => {
    const { loadConfig } = await import('../../../notification-handler/src/config.js');
    expect(handlerDefaultPrefetch()).toBe(loadConfig({}).PREFETCH);
  });
});
