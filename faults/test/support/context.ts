import type { ResultRow } from '@notify/test-support/system/results-table.js';

// What faults/test/global-setup.ts provides, and what each scenario hands to the summary reporter.
declare module 'vitest' {
  export interface ProvidedContext {
    amqpUrl: string;
    /** A database on the server where each scenario creates (and drops) its own. */
    adminDatabaseUrl: string;
    runId: string;
    /** Markers of second RabbitMQ nodes, so that the teardown can stop any left running. */
    rabbitMarkerDir: string;
  }
  export interface TaskMeta {
    faultRow?: ResultRow;
  }
}
