import type { Logger } from './logger.js';

type Closer = { name: string; close: () => Promise<void> | void };

export type CloseResult = { failed: string[] };

/**
 * Resources register a closer as they open; `closeAll` replays them newest first, so each one
 * closes before whatever it depends on. A failing closer is logged and the rest still run.
 */
export class Closers {
  private readonly stack: Closer[] = [];
  private closing: Promise<CloseResult> | undefined;
  private closed = false;

  constructor(private readonly log: Logger) {}

  add(name: string, close: Closer['close']): void {
    // Opened after the stop finished (a start still under way when it came): nothing else will close it.
    if (this.closed) {
      void this.closeOne({ name, close }, []);
      return;
    }
    this.stack.push({ name, close });
  }

  /** Resolves once every closer ran, naming those that failed. */
  closeAll(): Promise<CloseResult> {
    this.closing ??= this.replay();
    return this.closing;
  }

  private async replay(): Promise<CloseResult> {
    const failed: string[] = [];
    // Taken from the top one at a time, not iterated over: a resource that opens while the stop
    // runs (a signal during start-up) lands on top, and closes next, before what it depends on.
    for (let closer = this.stack.pop(); closer; closer = this.stack.pop()) await this.closeOne(closer, failed);
    this.closed = true;
    return { failed };
  }

  private async closeOne({ name, close }: Closer, failed: string[]): Promise<void> {
    try {
      await close();
      this.log.debug({ resource: name }, 'closed');
    } catch (err) {
      failed.push(name);
      this.log.error({ err, resource: name }, 'close failed');
    }
  }
}

/**
 * SIGTERM or SIGINT: close everything, then exit 0 (1 if closing failed or overran). The force
 * timer is unref'd so that it never keeps an otherwise finished process alive.
 */
export function exitOnSignal(closers: Closers, log: Logger, timeoutMs: number): void {
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down');
    closeThenExit(closers, log, timeoutMs, 0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  // A bug that escaped every handler leaves the process in an unknown state: close what can be
  // closed (unacked messages go back to the queue) and exit non-zero, for the supervisor to restart.
  // Errors are heard for as long as the process lives: one more while closing (the same bug, met
  // again by work still in flight) would otherwise end it there, the remaining closers skipped.
  let fatal = false;
  const onFatal = (err: unknown) => {
    if (fatal) {
      log.error({ err }, 'another unexpected error while shutting down');
      return;
    }
    fatal = true;
    log.fatal({ err }, 'unexpected error; shutting down');
    closeThenExit(closers, log, timeoutMs, 1);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
}

function closeThenExit(closers: Closers, log: Logger, timeoutMs: number, code: number): void {
  setTimeout(() => {
    log.error({ timeoutMs }, 'shutdown overran its bound; exiting anyway');
    process.exit(1);
  }, timeoutMs).unref();
  closers.closeAll().then(
    ({ failed }) => {
      if (failed.length > 0) {
        // A supervisor reads the exit code: a resource left half-closed is not a clean stop.
        log.error({ failed }, 'shutdown complete, but some resources failed to close');
        process.exit(1);
      }
      log.info('shutdown complete');
      process.exit(code);
    },
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}
