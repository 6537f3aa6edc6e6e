import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

type Rules = { groups: Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }> };

const alerts = (parseYaml(read('observability/alerts.yml')) as Rules).groups
  .flatMap((group) => group.rules)
  .filter((rule) => rule.alert !== undefined)
  .map((rule) => ({ name: rule.alert as string, runbook: rule.annotations?.runbook }));

/** Headings outside fenced code, as GitHub renders them (a `#` line in a shell block is no heading). */
function headings(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').flatMap((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    return heading ? [heading[1] as string] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  return new Set(
    headings(markdown).map((heading) => {
      const base = heading
        .replace(/`/g, '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      return count === 0 ? base : `${base}-${count}`;
    }),
  );
}

const runbook = read('docs/runbook.md');

describe('docs/runbook.md and the alerts of observability/alerts.yml', () => {
  it('When alerts.yml is read, then it holds alerts', () => {
    expect(alerts.length).toBeGreaterThan(0);
  });

  it.each(alerts.map((alert) => [alert.name, alert] as const))(
    'When %s fires, then its runbook annotation points at a section of docs/runbook.md',
    (name, alert) => {
      expect(alert.runbook, `${name} has no runbook annotation`).toBeDefined();
      const [path, anchor] = (alert.runbook as string).split('#');
      expect(path).toBe('docs/runbook.md');
      expect([...anchors(runbook)]).toContain(anchor);
      // Its own section, by name: not another alert's.
      expect(anchor).toBe(name.toLowerCase());
    },
  );

  it('When the runbook has a section for an alert, then that alert exists', () => {
    const sections = headings(runbook).filter((heading) => heading.startsWith('Notify'));
    expect(sections.filter((section) => !alerts.some((alert) => alert.name === section))).toEqual([]);
  });

  it('When the runbook links to another document, then the file and its heading exist', () => {
    const links = [...runbook.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1] as string)
      .filter((target) => !/^[a-z]+:/.test(target));
    expect(links.length).toBeGreaterThan(0);
    const broken = links.filter((target) => {
      const [path, anchor] = target.split('#');
      const file = path ? new URL(path, new URL('docs/', root)) : new URL('docs/runbook.md', root);
      if (!existsSync(file)) return true;
      return anchor !== undefined && !anchors(readFileSync(file, 'utf8')).has(anchor);
    });
    expect(broken).toEqual([]);
  });
});
