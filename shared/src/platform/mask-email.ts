/**
 * "alice@example.com" → "a***@e***.com": enough to tell recipients apart in a log, too little to
 * write to them. The top-level domain stays: it says which kind of provider, not which person.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***@${maskDomain(email.slice(at + 1))}`;
}

function maskDomain(domain: string): string {
  if (domain === '') return '';
  const lastDot = domain.lastIndexOf('.');
  // "localhost", or a trailing dot: no top-level domain worth keeping.
  if (lastDot < 1 || lastDot === domain.length - 1) return `${domain[0]}***`;
  return `${domain[0]}***${domain.slice(lastDot)}`;
}
