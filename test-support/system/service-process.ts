import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../wait.js';

/** A parsed JSON log line (pino); a line that is not JSON is kept as `{ msg: <text> }`. */
export type LogLine = Record<string, any> & { msg?: string; level?: number; run: number };

export type ProcessExit = {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** false when the process ended without the harness asking it to: it crashed on its own. */
  expected: boolean;
  at: number;
};

export type ServiceProcessOptions = {
  /** For messages and log files: `ticketing`, `handler`, `sandbox`... */
  name: string;
  /** Script run with `node`, e.g. `ticketing-service/dist/main.js` (resolved against `cwd`). */
  entry: string;
  args?: string[];
  /** Node's own flags, before the entry (the services': SERVICE_NODE_FLAGS). */
  nodeFlags?: readonly string[];
  /**
   * The process gets only PATH, HOME, LANG, TMPDIR from the test process plus this, so that a
   * variable set for the test runner (AMQP_URL in CI...) never leaks into a service.
   */
  env: Record<string, string>;
  /** Polled by `start()` until it resolves true: `/readyz` answers 200, for instance. */
  isReady: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Raw stdout and stderr of every run are appended here, to read after a failure. */
  logFile?: string;
  /** Parsed lines kept in memory; the oldest go first. */
  maxLines?: number;
  /**
   * false: the process writes its output straight into `logFile` (required then), as a service
   * writes to whatever collects its stdout, and nothing here reads it as it comes: `lines` stays
   * empty, `find` and `waitForLog` throw, and `tail` reads the file. For benchmarks, where reading and
   * parsing every line would cost the harness CPU on the cores the system is measured on.
   */
  readLines?: boolean;
  cwd?: string;
};

const INHERITED = ['PATH', 'HOME', 'LANG', 'TMPDIR'];

// Whatever happens to the test process, no service outlives it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * A service run as a real process (`node <entry>`): real signals, real exit codes, real sockets.
 * It can be started again after it ended, any number of times; log lines carry the run number.
 */
export class ServiceProcess {
  readonly name: string;
  /** Every exit so far, in order. */
  readonly exits: ProcessExit[] = [];
  readonly lines: LogLine[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<ProcessExit> | undefined;
  private expectingExit = false;
  private runs = 0;
  private log: WriteStream | undefined;

  constructor(private readonly options: ServiceProcessOptions) {
    this.name = options.name;
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      this.log = createWriteStream(options.logFile, { flags: 'a' });
    }
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the process was started. */
  get starts(): number {
    return this.runs;
  }

  /** Exits nobody asked for: each one is a process that would have needed a manual restart. */
  get unexpectedExits(): ProcessExit[] {
    return this.exits.filter((exit) => !exit.expected);
  }

  /** Spawns the process and resolves once `isReady` says so; rejects if it exits meanwhile. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.name} is already running (pid ${this.child.pid})`);
    this.runs += 1;
    const run = this.runs;
    const env = Object.fromEntries(INHERITED.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])));
    const output = this.openOutput();
    const child = spawn(
      process.execPath,
      [...(this.options.nodeFlags ?? []), this.options.entry, ...(this.options.args ?? [])],
      {
        cwd: this.options.cwd,
        env: { ...env, ...this.options.env },
        stdio: ['ignore', output ?? 'pipe', output ?? 'pipe'],
      },
    );
    // The child holds its own copy of the file's descriptor.
    if (output !== undefined) closeSync(output);
    this.child = child;
    live.add(child);
    this.log?.write(`--- ${new Date().toISOString()} start #${run} (pid ${child.pid})\n`);
    if (child.stdout) this.collect(child.stdout, run);
    if (child.stderr) this.collect(child.stderr, run);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        const exit = { code, signal, expected: this.expectingExit, at: Date.now() };
        this.exits.push(exit);
        this.log?.write(`--- ${new Date().toISOString()} exit #${run} code=${code} signal=${signal}\n`);
        this.child = undefined;
        this.expectingExit = false;
        resolve(exit);
      });
    });
    await waitFor(
      async () => {
        if (this.child !== child) throw new Error(`${this.name} exited while starting:\n${this.tail(20)}`);
        return (await this.options.isReady().catch(() => false)) ? true : undefined;
      },
      { timeoutMs: this.options.readyTimeoutMs ?? 30_000, intervalMs: 100, what: `${this.name} to be ready` },
    );
  }

  /** Sends a signal (an expected exit follows); resolves with the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000): Promise<ProcessExit> {
    const { child, exited } = this;
    if (!child || !exited) throw new Error(`${this.name} is not running`);
    this.expectingExit = true;
    child.kill(signal);
    return this.waitForExit(timeoutMs, exited);
  }

  /** SIGTERM, then SIGKILL past `timeoutMs`. Does nothing when the process is not running. */
  async stop(timeoutMs = 20_000): Promise<ProcessExit | undefined> {
    const { child, exited } = this;
    if (!child || !exited) return undefined;
    this.expectingExit = true;
    child.kill('SIGTERM');
    try {
      return await this.waitForExit(timeoutMs, exited);
    } catch {
      child.kill('SIGKILL');
      return exited;
    }
  }

  /** Resolves with the current run's exit; rejects past the timeout. */
  waitForExit(timeoutMs = 30_000, exited = this.exited): Promise<ProcessExit> {
    if (!exited) return Promise.reject(new Error(`${this.name} was never started`));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
  }

  /** Lines whose `msg` is `msg`, optionally only those of one run. */
  find(msg: string, run?: number): LogLine[] {
    // An empty answer would read as "not logged" and a wait for a line would time out instead.
    if (this.options.readLines === false) throw new Error(`${this.name}: its lines are not read (readLines: false)`);
    return this.lines.filter((line) => line.msg === msg && (run === undefined || line.run === run));
  }

  waitForLog(msg: string, { timeoutMs = 20_000, run }: { timeoutMs?: number; run?: number } = {}): Promise<LogLine> {
    return waitFor(() => this.find(msg, run)[0], { timeoutMs, what: `${this.name} to log "${msg}"` });
  }

  /** The last lines, as text, for error messages. */
  tail(count = 20): string {
    if (this.options.readLines === false && this.options.logFile) {
      return readFileSync(this.options.logFile, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
    }
    return this.lines
      .slice(-count)
      .map(({ run: _run, ...line }) => JSON.stringify(line))
      .join('\n');
  }

  /** Closes the log file; call once the process is gone for good. */
  async dispose(): Promise<void> {
    await this.stop();
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }

  /** With `readLines: false`, the log file opened for appending, for the child's stdout and stderr. */
  private openOutput(): number | undefined {
    if (this.options.readLines !== false) return undefined;
    if (!this.options.logFile) throw new Error(`${this.name}: readLines false needs a logFile`);
    return openSync(this.options.logFile, 'a');
  }

  private collect(stream: NodeJS.ReadableStream, run: number): void {
    createInterface({ input: stream }).on('line', (text) => {
      this.log?.write(`${text}\n`);
      let line: LogLine;
      try {
        const parsed = JSON.parse(text);
        line = typeof parsed === 'object' && parsed !== null ? { ...parsed, run } : { msg: text, run };
      } catch {
        line = { msg: text, run };
      }
      this.lines.push(line);
      if (this.lines.length > (this.options.maxLines ?? 200_000)) this.lines.shift();
    });
  }
}
