import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url));

/**
 * One ```sh walkthrough block of README.md and what the README says it shows:
 * - `shows`: the code spans of the "Shows:" paragraph after it, each expected in its output;
 * - `logs`: the code spans of a "The console shows" paragraph, each a message some service logs.
 * "```sh walkthrough poll" marks a read that the README says to run again until it shows that.
 */
export type WalkthroughBlock = {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  script: string;
  poll: boolean;
  shows: string[];
  logs: string[];
};

const OPENING_FENCE = /^```sh walkthrough( poll)?\s*$/;
const CODE_SPAN = /`([^`]+)`/g;

export function readWalkthrough(path = README_PATH): WalkthroughBlock[] {
  return parseWalkthrough(readFileSync(path, 'utf8'));
}

export function parseWalkthrough(markdown: string): WalkthroughBlock[] {
  const lines = markdown.split('\n');
  const blocks: WalkthroughBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const opening = OPENING_FENCE.exec(lines[index] ?? '');
    if (!opening) continue;
    const closing = lines.indexOf('```', index + 1);
    if (closing < 0) throw new Error(`README.md:${index + 1}: the walkthrough block is never closed`);
    blocks.push({
      line: index + 1,
      script: lines.slice(index + 1, closing).join('\n'),
      poll: opening[1] !== undefined,
      ...expectationsAfter(lines, closing + 1),
    });
    index = closing;
  }
  return blocks;
}

/** Reads the paragraphs right after a block while they are expectations; any other text ends them. */
function expectationsAfter(lines: string[], from: number): { shows: string[]; logs: string[] } {
  const shows: string[] = [];
  const logs: string[] = [];
  for (const paragraph of paragraphsFrom(lines, from)) {
    const spans = [...paragraph.matchAll(CODE_SPAN)].map((match) => match[1] ?? '');
    if (paragraph.startsWith('Shows:')) shows.push(...spans);
    else if (paragraph.startsWith('The console shows')) logs.push(...spans);
    else break;
  }
  return { shows, logs };
}

function* paragraphsFrom(lines: string[], from: number): Generator<string> {
  let current: string[] = [];
  for (const line of lines.slice(from)) {
    if (line.startsWith('```')) break;
    if (line.trim() !== '') {
      current.push(line);
      continue;
    }
    if (current.length > 0) yield current.join(' ');
    current = [];
  }
  if (current.length > 0) yield current.join(' ');
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** An expected fragment as a pattern: literal text, where `<uuid>` stands for any UUID. */
export function fragmentPattern(fragment: string): RegExp {
  const literal = fragment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(literal.replaceAll('<uuid>', UUID));
}

/** The README's addresses are the default ports; a test run listens elsewhere. */
export function withPorts(script: string, ports: Record<string, number>): string {
  return script.replace(/localhost:(\d+)/g, (whole, port: string) => {
    const actual = ports[port];
    return actual === undefined ? whole : `127.0.0.1:${actual}`;
  });
}
