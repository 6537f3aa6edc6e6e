import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fragmentPattern,
  README_PATH,
  readWalkthrough,
  type WalkthroughBlock,
  withPorts,
} from '../support/readme-walkthrough.js';
import { ShellSession } from '../support/shell-session.js';
import { type RunningSystem, startSystem } from '../support/system.js';

const blocks = readWalkthrough();
/** How long a "poll" block is run again, as a reader would, until it shows what the README says. */
const POLL_FOR_MS = 20_000;
const BLOCK_TIMEOUT_MS = 15_000;

describe("README walkthrough against the started system (each block's output and the services' logs)", () => {
  let system: RunningSystem;
  let shell: ShellSession;
  let failedAt: number | undefined;

  beforeAll(async () => {
    requireTools('bash', 'curl', 'jq');
    system = await startSystem();
    // A reader's shell has no OPERATOR_TOKEN unless they set one; the README's default applies.
    const { OPERATOR_TOKEN: _ignored, ...env } = process.env;
    shell = new ShellSession(env);
  }, 90_000);
  afterAll(async () => {
    await shell?.close();
    await system?.stop();
  }, 30_000);

  for (const block of blocks) {
    it(`When README.md:${block.line} runs (${headline(block)}), then it shows what the README says`, async (context) => {
      if (failedAt !== undefined) context.skip(`an earlier block failed (README.md:${failedAt})`);
      try {
        await runBlock(block);
      } catch (error) {
        failedAt = block.line;
        throw error;
      }
    }, 60_000);
  }

  it('When the inbox page the README points to is opened, then it lists the emails of the walkthrough', async () => {
    expect(readFileSync(README_PATH, 'utf8')).toContain('http://localhost:4010/');
    const page = await fetch(`${system.sandboxUrl}/`).then((response) => response.text());
    expect(page).toContain('Ticket successfully checked out');
    expect(page).toContain('Ticket added to checkout');
  });

  async function runBlock(block: WalkthroughBlock): Promise<void> {
    const script = withPorts(block.script, system.ports);
    const deadline = Date.now() + (block.poll ? POLL_FOR_MS : 0);
    for (;;) {
      const result = await shell.run(script, BLOCK_TIMEOUT_MS);
      const missing = block.shows.filter((fragment) => !fragmentPattern(fragment).test(result.stdout));
      if (missing.length === 0 && result.status === 0) break;
      if (Date.now() >= deadline) {
        expect.fail(
          [
            `README.md:${block.line} did not show ${missing.map((f) => `\`${f}\``).join(', ') || 'a zero exit status'}`,
            `exit status ${result.status}; output:\n${result.stdout}`,
            result.stderr ? `stderr:\n${result.stderr}` : '',
            `logs:\n${system.recentLogs()}`,
          ].join('\n'),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    for (const message of block.logs) {
      await waitFor(() => (system.loggedMessages().includes(message) ? true : undefined), {
        timeoutMs: POLL_FOR_MS,
        what: `a service to log "${message}" (README.md:${block.line})`,
      });
    }
  }
});

/** The first line of a block, for a test title. */
function headline(block: WalkthroughBlock): string {
  const first = (block.script.split('\n')[0] ?? '').replace(/\s*\\$/, '');
  return first.length > 70 ? `${first.slice(0, 67)}...` : first;
}

function requireTools(...tools: string[]): void {
  const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(`The README walkthrough needs ${missing.join(', ')} (apt-get install ${missing.join(' ')})`);
  }
}
