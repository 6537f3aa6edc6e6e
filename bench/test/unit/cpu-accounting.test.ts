import { describe, expect, it } from 'vitest';
import { backendComponent, type CpuSnapshot, cpuBetween } from '../../lib/cpu-accounting.js';

function snapshot(at: number, ticketing: [number, number], backend: [number, number] | undefined): CpuSnapshot {
  return {
    at,
    byComponent: { ticketing: ticketing[0] },
    kernelByComponent: { ticketing: ticketing[1] },
    backends: new Map(
      backend ? [[42, { component: 'postgresql ← ticketing', ms: backend[0], kernelMs: backend[1] }]] : [],
    ),
    machineBusyMs: at,
  };
}

describe('cpuBetween', () => {
  it('When two snapshots differ, then each component’s CPU and its kernel part are what was used between them', () => {
    const before = snapshot(1_000, [5_000, 1_000], [300, 100]);
    const after = snapshot(3_000, [6_000, 1_160], [800, 350]);

    const use = cpuBetween(before, after);

    expect(use.componentMs).toEqual({ ticketing: 1_000, 'postgresql ← ticketing': 500 });
    expect(use.componentKernelMs).toEqual({ ticketing: 160, 'postgresql ← ticketing': 250 });
  });

  it('When a backend was born between the snapshots, then all its CPU counts, kernel part included', () => {
    const use = cpuBetween(snapshot(1_000, [0, 0], undefined), snapshot(2_000, [0, 0], [200, 80]));

    expect(use.componentMs['postgresql ← ticketing']).toBe(200);
    expect(use.componentKernelMs?.['postgresql ← ticketing']).toBe(80);
  });
});

describe('backendComponent', () => {
  it('When a service’s maintenance, metrics or probe connection is seen, then its CPU counts for that service', () => {
    expect(backendComponent('ticketing-service')).toBe('postgresql ← ticketing');
    expect(backendComponent('ticketing-service maintenance')).toBe('postgresql ← ticketing');
    expect(backendComponent('ticketing-service metrics')).toBe('postgresql ← ticketing');
    expect(backendComponent('notification-handler')).toBe('postgresql ← handler');
    expect(backendComponent('notification-handler maintenance')).toBe('postgresql ← handler');
    expect(backendComponent('notification-handler probe')).toBe('postgresql ← handler');
  });

  it('When a connection names no service, then it is the bench’s own', () => {
    expect(backendComponent('')).toBe('postgresql ← bench checks');
    expect(backendComponent('ticketing-service-other')).toBe('postgresql ← bench checks');
  });
});
