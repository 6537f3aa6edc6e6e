import type { Money } from '@notify/shared';

/**
 * ISO 4217's minor units, where they are not two: the message's amounts count in them. Intl's own
 * digits come from CLDR, which shows some currencies with fewer than they have (HUF, IDR, COP and
 * a dozen more with none, IQD with none instead of three): an amount read with them would be a
 * hundred or a thousand times too large, and would change with the ICU data of the Node in use.
 */
const MINOR_UNIT_DIGITS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(
    [
      'BIF',
      'CLP',
      'DJF',
      'GNF',
      'ISK',
      'JPY',
      'KMF',
      'KRW',
      'PYG',
      'RWF',
      'UGX',
      'UYI',
      'VND',
      'VUV',
      'XAF',
      'XOF',
      'XPF',
    ].map((code) => [code, 0]),
  ),
  ...Object.fromEntries(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'].map((code) => [code, 3])),
  CLF: 4,
  UYW: 4,
};

type CurrencyFormat = { formatter: Intl.NumberFormat; minorUnitsPerMajor: number };

// Building a formatter is the slow part: once per currency.
const formats = new Map<string, CurrencyFormat>();

/** 9000 EUR → "€90.00": the currency's ISO 4217 minor units decide how many make a major one. */
export function formatMoney({ amountMinor, currency }: Money): string {
  let format = formats.get(currency);
  if (!format) {
    const digits = MINOR_UNIT_DIGITS[currency] ?? 2;
    const formatter = new Intl.NumberFormat('en-GB', {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    format = { formatter, minorUnitsPerMajor: 10 ** digits };
    formats.set(currency, format);
  }
  return format.formatter.format(amountMinor / format.minorUnitsPerMajor);
}
