import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type SelfTimeRow = { name: string; where: string; ms: number; percent: number };
export type ProfileSummary = {
  file: string;
  /** Wall time the profile covers, and how much of it the process spent on a CPU (not idle). */
  wallMs: number;
  busyMs: number;
  topFunctions: SelfTimeRow[];
  /** Self time grouped by where the code lives: a package, a workspace, node internals, GC. */
  byArea: SelfTimeRow[];
};

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Self time per function, from the samples (each sample's time delta goes to the node it hit). */
export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const name = frame.functionName || '(anonymous)';
    const where = SPECIAL.has(name) ? '' : `${shortPath(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const row = (name: string, where: string, us: number): SelfTimeRow => ({
    name,
    where,
    ms: Math.round(us / 1_000),
    percent: busyUs > 0 ? Math.round((us / busyUs) * 1_000) / 10 : 0,
  });
  return {
    file,
    wallMs: Math.round((profile.endTime - profile.startTime) / 1_000),
    busyMs: Math.round(busyUs / 1_000),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => row(entry.name, entry.where, entry.us)),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => row(area, '', us)),
  };
}

/** Every .cpuprofile under `dir` (one folder per process), summarised. */
export async function summarizeProfilesIn(dir: string, top = 15): Promise<Record<string, ProfileSummary>> {
  const result: Record<string, ProfileSummary> = {};
  for (const process of await readdir(dir).catch(() => [] as string[])) {
    const files = (await readdir(join(dir, process)).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.cpuprofile'),
    );
    const newest = files.sort().at(-1);
    if (newest) result[process] = await summarizeProfile(join(dir, process, newest), top);
  }
  return result;
}

function shortPath(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  const repo = path.search(/(shared|notification-handler|ticketing-service|mailjet-sandbox)\/dist\//);
  return repo >= 0 ? path.slice(repo) : path;
}

/** node_modules package, our workspace, node:internal module, or the VM's own entries. */
function areaOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName) && !frame.url) return frame.functionName;
  const path = frame.url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + 'node_modules/'.length).split('/');
    const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    return name === '@notify/shared' ? 'shared (workspace)' : `${name} (package)`;
  }
  const workspace = path.match(/(shared|notification-handler|ticketing-service|mailjet-sandbox)\/dist\//);
  if (workspace) return `${workspace[1]} (workspace)`;
  if (path.startsWith('node:')) return `node:${path.slice(5).split('/')[1] ?? path.slice(5)}`;
  if (!path) return '(native / V8 builtins)';
  return path;
}
