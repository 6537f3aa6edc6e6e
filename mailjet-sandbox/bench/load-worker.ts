import { parentPort, workerData } from 'node:worker_threads';
import { type LoadSettings, runLoad } from './load-generator.js';

// The client runs on its own thread, so that the figure measures the sandbox and not the client.
const run = await runLoad(workerData as LoadSettings, () => parentPort?.postMessage({ measuring: true }));
parentPort?.postMessage({ run });
