import { maskEmail } from './mask-email.js';

// Local part: RFC 5322's atext and the dot, the apostrophe (o'brien@) and the backquote among them:
// one left out splits an address, and what stands before it stays in clear. Double quotes and
// brackets are not, so that the text around an address stays (an address in single quotes loses
// its first letter to the mask: the safe side). Domain: labels joined by dots, never ending in one
// (the full stop of a sentence). Letters and digits of any script; '*' so that masked text scrubs
// to itself. A match starts only where a run of local-part characters starts (the lookbehind):
// otherwise a long run with no at sign is walked again from each of its characters, quadratic in
// its length, and one request with 16 KB of them in its query held the event loop for a second
// and a half.
const EMAIL_ADDRESS =
  /(?<![\p{L}\p{N}._%+!#$&'*/=?^`{|}~-])[\p{L}\p{N}._%+!#$&'*/=?^`{|}~-]+@(?:[\p{L}\p{N}*-]+(?:\.[\p{L}\p{N}*-]+)*)?/gu;

/**
 * Masks every email address in a text, e.g. a provider's error message (`"alice@example.com" is
 * an invalid email address.`) before it is logged or stored: the address is personal data, the
 * rest of the message is what an operator needs. Anything shaped like `name@host` is masked,
 * a `package@1.2.3` too: masking too much is the safe side.
 */
export function scrubAddresses(text: string): string {
  return text.replace(EMAIL_ADDRESS, maskEmail);
}
