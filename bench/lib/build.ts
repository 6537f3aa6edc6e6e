import { spawnSync } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const WORKSPACES = [
  { dir: 'shared', entry: 'dist/index.js' },
  { dir: 'mailjet-sandbox', entry: 'dist/main.js' },
  { dir: 'notification-handler', entry: 'dist/main.js' },
  { dir: 'ticketing-service', entry: 'dist/main.js' },
];

/** Builds every workspace when one has no dist entry or a source newer than it. */
export async function buildIfNeeded(log: (line: string) => void): Promise<void> {
  const stale: string[] = [];
  for (const { dir, entry } of WORKSPACES) {
    const built = await stat(join(dir, entry)).catch(() => undefined);
    if (!built || (await newestMtime(join(dir, 'src'))) > built.mtimeMs) stale.push(dir);
  }
  if (stale.length === 0) return log('build: dist is up to date');
  log(`build: ${stale.join(', ')} out of date; npm run build`);
  const result = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status ?? result.signal})`);
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const info = await stat(join(entry.parentPath ?? entry.path, entry.name));
    newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}

/** HEAD, and whether the services' sources differ from it (what the numbers were measured on). */
export function sourceVersion(): { commit: string; uncommittedServiceChanges: boolean } {
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--', ...WORKSPACES.map(({ dir }) => `${dir}/src`));
  return { commit, uncommittedServiceChanges: dirty.length > 0 };
}
