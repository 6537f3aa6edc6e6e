/** "ada.lovelace@example.com" → "a***@example.com": enough to tell recipients apart in a log. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
