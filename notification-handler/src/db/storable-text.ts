// With the u flag, a surrogate pair is one code point, so only an unpaired half matches \p{Cs}.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding U+0000 is the point.
const UNSTORABLE = /\u0000|\p{Cs}/gu;

/**
 * A provider's text (an error message, a page cut short at a length in UTF-16 units) as PostgreSQL
 * takes it: text and jsonb refuse U+0000, and jsonb refuses the escape JSON.stringify writes for an
 * unpaired surrogate. Settlements are written as jsonb, a batch per statement: one such character
 * would refuse the whole batch, and its transient failure would be dead-lettered as poison.
 */
export function storableText<T extends string | null>(text: T): T {
  return (text === null ? text : text.replace(UNSTORABLE, '\uFFFD')) as T;
}
