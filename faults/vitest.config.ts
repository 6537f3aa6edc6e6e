import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import rootConfig from '../vitest.config.js';
import { FileOrderSequencer } from './test/file-order-sequencer.js';

// The fault suite: real built processes under load, one fault per file. Not part of `npm test`
// (the root projects include only */test/unit and */test/integration); run by `npm run test:faults`.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  // Same resolution as the root config: workspaces' TypeScript sources under the 'source' condition.
  ssr: rootConfig.ssr,
  test: {
    name: 'faults',
    // The cluster scenarios (2x) start three RabbitMQ nodes of their own and take about 5.5 min:
    // they run apart (`npm run test:faults:cluster`), so that CI's run stays well under 30 min.
    include: [
      process.env.FAULTS_SUITE === 'cluster' ? 'faults/test/faults/2*.test.ts' : 'faults/test/faults/[01]*.test.ts',
    ],
    globalSetup: ['faults/test/global-setup.ts'],
    // Scenarios share two cores with RabbitMQ and PostgreSQL: one at a time, and in file order.
    fileParallelism: false,
    sequence: { sequencer: FileOrderSequencer },
    testTimeout: 300_000,
    hookTimeout: 180_000,
    reporters: [
      'default',
      [
        'json',
        {
          outputFile:
            process.env.FAULTS_SUITE === 'cluster' ? 'test-results/faults-cluster.json' : 'test-results/faults.json',
        },
      ],
      './faults/test/summary-reporter.ts',
    ],
  },
});
