import { describe, expect, it } from 'vitest';
import { maskEmail } from '../../src/platform/mask-email.js';

describe('maskEmail', () => {
  it.each([
    ['alice@example.com', 'a***@e***.com'],
    ['ada.lovelace@mail.example.co.uk', 'a***@m***.uk'],
    ['b@x.io', 'b***@x***.io'],
    ['root@localhost', 'r***@l***'],
    ['odd@example.', 'o***@e***'],
    ['x@', 'x***@'],
    ['"quoted@local"@example.org', '"***@e***.org'],
  ])('When the address is %s, then it shows as %s', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });

  it.each([['no-at-sign'], ['@example.com'], ['']])('When "%s" has no local part, then only *** is left', (email) => {
    expect(maskEmail(email)).toBe('***');
  });

  it('When an address is masked, then neither its local part nor its domain name can be read back', () => {
    const masked = maskEmail('grace.hopper@navy-research.mil');

    expect(masked).not.toContain('grace');
    expect(masked).not.toContain('navy');
    expect(masked).toBe('g***@n***.mil');
  });
});
