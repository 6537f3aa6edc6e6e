import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeProfile } from '../../lib/cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, scriptId: '0' });

// root → idle, root → handler code → pg code; samples: idle 50 ms, handler 20 ms, pg 30 ms.
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3] },
    { id: 2, callFrame: frame('(idle)') },
    {
      id: 3,
      callFrame: frame('sendNotification', 'file:///work/notification-handler/dist/domain/send.js', 9),
      children: [4],
    },
    { id: 4, callFrame: frame('parse', 'file:///work/node_modules/pg-protocol/dist/parser.js', 25) },
  ],
  startTime: 0,
  endTime: 100_000,
  samples: [2, 3, 4, 4, 2],
  timeDeltas: [25_000, 20_000, 15_000, 15_000, 25_000],
};

describe('summarizeProfile', () => {
  let dir = '';
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('When a profile has idle and busy samples, then self time is per function and per area, idle left out', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-profile-'));
    const file = join(dir, 'CPU.1.cpuprofile');
    await writeFile(file, JSON.stringify(profile));

    const summary = await summarizeProfile(file);

    expect(summary).toMatchObject({ wallMs: 100, busyMs: 50 });
    expect(summary.topFunctions).toEqual([
      { name: 'parse', where: 'pg-protocol/dist/parser.js:26', ms: 30, percent: 60 },
      { name: 'sendNotification', where: 'notification-handler/dist/domain/send.js:10', ms: 20, percent: 40 },
    ]);
    expect(summary.byArea.map((row) => row.name)).toEqual([
      'pg-protocol (package)',
      'notification-handler (workspace)',
    ]);
  });
});
