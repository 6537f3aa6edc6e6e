import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOT_ENV = fileURLToPath(new URL('../.env', import.meta.url));

/**
 * Reads the repository's `.env` when there is one, as docker compose does. A variable already set
 * in the environment wins over the file.
 */
export function loadDotEnv(): void {
  if (existsSync(DOT_ENV)) process.loadEnvFile(DOT_ENV);
}
