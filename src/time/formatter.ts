const cache = new Map<string, Intl.DateTimeFormat>();

/**
 * An Intl.DateTimeFormat kept per purpose and zone: building one costs far more than using it,
 * and a directory has few zones.
 */
export function dateTimeFormat(
  purpose: string,
  locale: string,
  tz: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = `${purpose} ${tz}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone: tz });
    cache.set(key, f);
  }
  return f;
}
