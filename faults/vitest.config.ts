import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import rootConfig from '../vitest.config.js';
import { ScenarioSequencer } from './test/scenario-sequencer.js';

// The fault suite: real built processes under load, one fault per file. Not part of `npm test`
// (the root projects include only */test/unit and */test/integration); run by `npm run test:faults`.
const cluster = process.env.FAULTS_SUITE === 'cluster';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  // Same resolution as the root config: workspaces' TypeScript sources under the 'source' condition.
  ssr: rootConfig.ssr,
  test: {
    name: 'faults',
    // The cluster scenarios (2x) start three RabbitMQ nodes of their own and take about 4.5-5.5 min:
    // they run apart (`npm run test:faults:cluster`), so that CI's run stays well under 30 min.
    include: [cluster ? 'faults/test/faults/2*.test.ts' : 'faults/test/faults/[01]*.test.ts'],
    globalSetup: ['faults/test/global-setup.ts'],
    // Every scenario has its own system, database, topology prefix and ports, and the fault it
    // injects reaches only those (or a RabbitMQ or PostgreSQL node of its own), so scenarios can
    // run side by side. Four at a time: the three outages of minutes, which mostly wait, and one
    // lane for the short ones, which spread as the long ones end. 50 notifications/s each keeps
    // two cores far from full. The cluster scenarios (three nodes each) run one at a time.
    maxWorkers: cluster ? 1 : 4,
    sequence: { sequencer: ScenarioSequencer },
    testTimeout: 300_000,
    hookTimeout: 180_000,
    reporters: [
      'default',
      [
        'json',
        {
          outputFile: cluster ? 'test-results/faults-cluster.json' : 'test-results/faults.json',
        },
      ],
      './faults/test/summary-reporter.ts',
    ],
  },
});
