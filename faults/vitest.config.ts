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
    include: ['faults/test/faults/**/*.test.ts'],
    globalSetup: ['faults/test/global-setup.ts'],
    // Scenarios share two cores with RabbitMQ and PostgreSQL: one at a time, and in file order.
    fileParallelism: false,
    sequence: { sequencer: FileOrderSequencer },
    testTimeout: 300_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: 'test-results/faults.json' }], './faults/test/summary-reporter.ts'],
  },
});
