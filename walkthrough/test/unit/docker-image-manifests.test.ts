import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = new URL('../../../', import.meta.url);

function workspaces(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('package.json', REPO_ROOT), 'utf8')) as { workspaces: string[] };
  return manifest.workspaces;
}

function dockerfiles(): string[] {
  return readdirSync(REPO_ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && readdirSync(new URL(`${entry.name}/`, REPO_ROOT)).includes('Dockerfile'))
    .map((entry) => `${entry.name}/Dockerfile`);
}

/** The workspaces whose manifest a Dockerfile copies before its first `npm ci`. */
function manifestsCopiedBeforeInstall(dockerfile: string): string[] {
  const lines = readFileSync(new URL(dockerfile, REPO_ROOT), 'utf8').split('\n');
  const firstInstall = lines.findIndex((line) => /^RUN npm ci\b/.test(line));
  if (firstInstall < 0) throw new Error(`${dockerfile} never runs npm ci`);
  return lines
    .slice(0, firstInstall)
    .map((line) => /^COPY ([\w-]+)\/package\.json \1\/$/.exec(line)?.[1])
    .filter((workspace): workspace is string => workspace !== undefined);
}

// No Docker engine runs the image builds in CI; this is the mistake that breaks them all at once:
// npm ci refuses a lockfile that names a workspace whose manifest is missing.
describe('Docker images', () => {
  it('When the repository is read, then it has the three service images', () => {
    expect(dockerfiles().sort()).toEqual([
      'mailjet-sandbox/Dockerfile',
      'notification-handler/Dockerfile',
      'ticketing-service/Dockerfile',
    ]);
  });

  it.each(dockerfiles())(
    'When %s installs its dependencies, then every workspace manifest of the lockfile is already there',
    (dockerfile) => {
      expect(manifestsCopiedBeforeInstall(dockerfile).sort()).toEqual(workspaces().sort());
    },
  );
});
