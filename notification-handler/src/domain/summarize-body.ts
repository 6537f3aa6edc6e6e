/**
 * A provider's error body that is not its JSON (a proxy's HTML page, plain text) in one short line
 * for a reason: tags dropped, whitespace collapsed, at most `maxLength` characters.
 */
export function summarizeBody(text: string, maxLength = 120): string {
  const line = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > maxLength ? `${line.slice(0, maxLength)}...` : line || 'no body';
}
