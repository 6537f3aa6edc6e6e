/**
 * A URI component decoded, or as it came when it is not valid percent-encoding: a `%` that starts
 * no escape (a password such as `50%off`, never encoded; a path segment typed by hand) is taken as
 * the text it is, as amqplib's own URL parsing does, rather than failing what reads it.
 */
export function decodeUriComponentOrAsIs(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
