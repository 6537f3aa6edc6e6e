import { readFileSync } from 'node:fs';

const COMPOSE_FILE = new URL('../docker-compose.yml', import.meta.url);
const ENV_EXAMPLE_FILE = new URL('../.env.example', import.meta.url);

/**
 * The variable names set in the `environment:` block that carries this YAML anchor
 * (`environment: &handler-env`) in the repository's docker-compose.yml.
 */
export function composeEnvironment(anchor: string): string[] {
  const lines = readFileSync(COMPOSE_FILE, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trimEnd().endsWith(`environment: &${anchor}`));
  if (start < 0) throw new Error(`docker-compose.yml has no environment anchored &${anchor}`);
  const indent = (line: string) => line.length - line.trimStart().length;
  const blockIndent = indent(lines[start] as string);
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (indent(line) <= blockIndent) break;
    const name = /^\s+([A-Z][A-Z0-9_]*):/.exec(line)?.[1];
    if (name) names.push(name);
  }
  return names;
}

/** The variable names that .env.example shows, each on a commented-out `# NAME=value` line. */
export function envExampleNames(): string[] {
  const text = readFileSync(ENV_EXAMPLE_FILE, 'utf8');
  return [...text.matchAll(/^# ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string);
}
