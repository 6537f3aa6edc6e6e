import type { Money } from '@notify/shared';

const formatters = new Map<string, Intl.NumberFormat>();

/** 9000 EUR → "€90.00": the currency decides how many minor units make a major one. */
export function formatMoney({ amountMinor, currency }: Money): string {
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
    formatters.set(currency, formatter);
  }
  const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
  return formatter.format(amountMinor / 10 ** digits);
}
