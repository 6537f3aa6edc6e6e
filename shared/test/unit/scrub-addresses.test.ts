import { describe, expect, it } from 'vitest';
import { scrubAddresses } from '../../src/platform/scrub-addresses.js';

describe('scrubAddresses', () => {
  it('When Mailjet says an address is invalid, then the address is masked and the sentence kept', () => {
    expect(scrubAddresses('"alice@example.com" is an invalid email address.')).toBe(
      '"a***@e***.com" is an invalid email address.',
    );
  });

  it('When a text holds several addresses, then each is masked where it stands', () => {
    const text = 'To: <ada@example.com>, grace.hopper+tickets@mail.example.org; Cc: bob@x.io.';

    expect(scrubAddresses(text)).toBe('To: <a***@e***.com>, g***@m***.org; Cc: b***@x***.io.');
  });

  it('When an address is malformed, then what looks like one is masked all the same', () => {
    expect(scrubAddresses('"x@" is an invalid email address.')).toBe('"x***@" is an invalid email address.');
    expect(scrubAddresses('mailto:zoë@bücher.de')).toBe('mailto:z***@b***.de');
  });

  it('When a local part holds an apostrophe or a backquote, then the whole address is masked, not what follows it', () => {
    expect(scrubAddresses('"o\'brien@example.com" is an invalid email address.')).toBe(
      '"o***@e***.com" is an invalid email address.',
    );
    expect(scrubAddresses('to: ada`lovelace@example.com')).toBe('to: a***@e***.com');
  });

  it('When a text has no address, then it comes back unchanged', () => {
    const text = 'HTTP 503: Service Unavailable (retry in 2 s) at 10:42 - see ticket #12';

    expect(scrubAddresses(text)).toBe(text);
  });

  it('When a text holds a long run of address characters, then it is scrubbed in one pass: no request can stall the process with one', () => {
    // A query can carry 16 KB; quadratic in the run, 100,000 characters took over half a minute.
    const run = 'a'.repeat(100_000);
    const startedAt = performance.now();

    const withoutAt = scrubAddresses(`q=${run} and x@y.z`);
    const withAt = scrubAddresses(`${run}@example.com`);

    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(withoutAt).toBe(`q=${run} and x***@y***.z`);
    expect(withAt).toBe('a***@e***.com');
  });

  it('When a text is scrubbed twice, then the second pass changes nothing', () => {
    const once = scrubAddresses('"alice@example.com" and root@localhost failed');

    expect(once).toBe('"a***@e***.com" and r***@l*** failed');
    expect(scrubAddresses(once)).toBe(once);
  });
});
