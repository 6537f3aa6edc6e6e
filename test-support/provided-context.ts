// What global-setup.ts hands to integration tests through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    amqpUrl: string;
    /** This run's own database, dropped at the end. */
    databaseUrl: string;
    /** Prefix for this run's broker names, so that parallel runs on one broker never meet. */
    runId: string;
  }
}

export {};
