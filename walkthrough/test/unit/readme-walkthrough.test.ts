import { describe, expect, it } from 'vitest';
import { fragmentPattern, parseWalkthrough, readWalkthrough, withPorts } from '../support/readme-walkthrough.js';

describe('README walkthrough blocks (parsing)', () => {
  it('When README.md is read, then every walkthrough block says what it shows', () => {
    const blocks = readWalkthrough();

    expect(blocks.length).toBeGreaterThanOrEqual(10);
    for (const block of blocks)
      expect({ line: block.line, shows: block.shows.length > 0 }).toEqual({ line: block.line, shows: true });
  });

  it('When a block is followed by Shows and console paragraphs, then their code spans are its expectations', () => {
    const markdown = [
      '```sh walkthrough poll',
      'curl -s localhost:3001/x',
      '```',
      '',
      'Shows: `{"a":1}` and',
      '`id <uuid>`.',
      '',
      'The console shows `email sent` once.',
      '',
      'Other prose with `code` that is no expectation.',
      '',
      '```sh',
      'not a walkthrough block',
      '```',
    ].join('\n');

    expect(parseWalkthrough(markdown)).toEqual([
      {
        line: 1,
        script: 'curl -s localhost:3001/x',
        poll: true,
        shows: ['{"a":1}', 'id <uuid>'],
        logs: ['email sent'],
      },
    ]);
  });

  it('When an expectation holds <uuid>, then it matches any UUID there and the rest literally', () => {
    const pattern = fragmentPattern('{"trackingId":"<uuid>","status":"in_progress"} 202');

    expect(pattern.test('{"trackingId":"0b9e2a4e-7f1c-4c55-9d55-0a3c1e2f4b6d","status":"in_progress"} 202')).toBe(true);
    expect(pattern.test('{"trackingId":"null","status":"in_progress"} 202')).toBe(false);
  });

  it('When a script names the default ports, then they become the run ports and other hosts stay', () => {
    expect(withPorts('curl localhost:3000/a localhost:4010/b example.com:3000', { 3000: 5001, 4010: 5002 })).toBe(
      'curl 127.0.0.1:5001/a 127.0.0.1:5002/b example.com:3000',
    );
  });
});
