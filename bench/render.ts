/**
 * Renders a results JSON again as markdown (after a change to the report's layout):
 *   npx tsx --conditions=source bench/render.ts bench/results/latest.json   → bench/results/latest.md
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type RunResult, renderMarkdown } from './lib/report.js';

const file = process.argv[2];
if (!file?.endsWith('.json')) {
  console.error('usage: npx tsx --conditions=source bench/render.ts <results.json>');
  process.exit(64);
}
const run = JSON.parse(await readFile(file, 'utf8')) as RunResult;
const target = file.replace(/\.json$/, '.md');
await writeFile(target, renderMarkdown(run));
console.log(`wrote ${target}`);
