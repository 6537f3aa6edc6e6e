import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@notify/test-support/wait.js';

export type ShellResult = { stdout: string; stderr: string; status: number };

/**
 * One bash process for the whole walkthrough, as a reader runs it in one terminal: variables set
 * by a block are there for the next ones. Each script ends with a marker line carrying its status.
 */
export class ShellSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private stdout = '';
  private stderr = '';

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
    });
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
  }

  async run(script: string, timeoutMs: number): Promise<ShellResult> {
    const marker = `__walkthrough_${randomUUID()}__`;
    const [outFrom, errFrom] = [this.stdout.length, this.stderr.length];
    this.child.stdin.write(`${script}\nprintf '\\n%s %s\\n' '${marker}' "$?"\n`);
    const found = await waitFor(
      () => {
        const at = this.stdout.indexOf(`${marker} `, outFrom);
        const status = at < 0 ? null : /^(\d+)\n/.exec(this.stdout.slice(at + marker.length + 1));
        return status ? { at, status: Number(status[1]) } : undefined;
      },
      { timeoutMs, what: 'the block to finish' },
    );
    return {
      stdout: this.stdout.slice(outFrom, found.at).replace(/\n$/, ''),
      stderr: this.stderr.slice(errFrom),
      status: found.status,
    };
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end('exit\n');
    await exited;
  }
}
