// Profiles the process it is preloaded into and writes `<BENCH_CPU_PROFILE_DIR>/CPU.<pid>.cpuprofile`
// when it exits: NODE_OPTIONS="--import <this file>". Node 20 refuses --cpu-prof in NODE_OPTIONS,
// and the system harness passes arguments after the entry point only; --import is allowed there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1_000 });
  session.post('Profiler.start');
  // A session on the main thread answers synchronously, so this completes inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
