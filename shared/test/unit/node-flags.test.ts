import { readFileSync } from 'node:fs';
import { SERVICE_NODE_FLAGS } from '@notify/shared/platform';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = new URL('../../../', import.meta.url);

/** The argument list of a Dockerfile's exec-form CMD. */
function dockerCmd(service: string): string[] {
  const text = readFileSync(new URL(`${service}/Dockerfile`, REPO_ROOT), 'utf8');
  const line = text.split('\n').find((candidate) => candidate.startsWith('CMD '));
  if (!line) throw new Error(`${service}/Dockerfile has no CMD`);
  return JSON.parse(line.slice('CMD '.length)) as string[];
}

describe('SERVICE_NODE_FLAGS', () => {
  it.each(['ticketing-service', 'notification-handler'])(
    "When the %s image starts, then node gets the services' flags before the entry",
    (service) => {
      expect(dockerCmd(service)).toEqual(['node', ...SERVICE_NODE_FLAGS, 'dist/main.js']);
    },
  );

  it("When docker compose starts a service with a command of its own, then node gets the services' flags there too", () => {
    const compose = readFileSync(new URL('docker-compose.yml', REPO_ROOT), 'utf8');
    const starts = compose.match(/exec node [^\n]*/g) ?? [];
    expect(starts.length).toBeGreaterThan(0);
    for (const start of starts) expect(start).toBe(`exec node ${SERVICE_NODE_FLAGS.join(' ')} dist/main.js`);
  });

  it('When the flags are given to this Node, then it accepts them (a typo would stop every service at start)', () => {
    const accepted = process.allowedNodeEnvironmentFlags;
    for (const flag of SERVICE_NODE_FLAGS) expect(accepted.has(flag.split('=')[0] as string)).toBe(true);
  });
});
