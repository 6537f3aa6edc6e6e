import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOT_ENV = fileURLToPath(new URL('../.env', import.meta.url));

/**
 * Reads the repository's `.env` when there is one, as docker compose does. A variable already set
 * in the environment wins over the file.
 */
export function loadDotEnv(): void {
  if (!existsSync(DOT_ENV)) return;
  // process.loadEnvFile came with Node.js 20.12; package.json allows 20.11.
  if (typeof process.loadEnvFile !== 'function') {
    console.error(`npm start: reading ${DOT_ENV} needs Node.js 20.12 or later (this is ${process.version})`);
    process.exit(1);
  }
  process.loadEnvFile(DOT_ENV);
}
