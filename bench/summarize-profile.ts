/**
 * Top self-time functions of V8 .cpuprofile files (node --cpu-prof, or bench --profile), no browser:
 *   npx tsx bench/summarize-profile.ts bench/results/profiles/closed-0ms/handler/CPU.*.cpuprofile [--top 25]
 */
import { parseArgs } from 'node:util';
import { summarizeProfile } from './lib/cpu-profile.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '20' } },
});
if (positionals.length === 0) {
  console.error('usage: npx tsx bench/summarize-profile.ts <file.cpuprofile>... [--top N]');
  process.exit(64);
}
for (const file of positionals) {
  const summary = await summarizeProfile(file, Number(values.top));
  console.log(`\n${file}\nbusy ${summary.busyMs} ms of ${summary.wallMs} ms wall\n`);
  console.log('self ms      %  area');
  for (const row of summary.byArea)
    console.log(`${String(row.ms).padStart(7)} ${row.percent.toFixed(1).padStart(6)}  ${row.name}`);
  console.log('\nself ms      %  function (where)');
  for (const row of summary.topFunctions) {
    console.log(`${String(row.ms).padStart(7)} ${row.percent.toFixed(1).padStart(6)}  ${row.name} (${row.where})`);
  }
}
