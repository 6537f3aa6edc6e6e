import type { Money } from '@notify/shared';

type CurrencyFormat = { formatter: Intl.NumberFormat; minorUnitsPerMajor: number };

// Building a formatter and asking it for its options are the slow parts: once per currency.
const formats = new Map<string, CurrencyFormat>();

/** 9000 EUR → "€90.00": the currency decides how many minor units make a major one. */
export function formatMoney({ amountMinor, currency }: Money): string {
  let format = formats.get(currency);
  if (!format) {
    const formatter = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
    format = { formatter, minorUnitsPerMajor: 10 ** (formatter.resolvedOptions().maximumFractionDigits ?? 2) };
    formats.set(currency, format);
  }
  return format.formatter.format(amountMinor / format.minorUnitsPerMajor);
}
