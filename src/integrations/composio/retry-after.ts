// How long the provider asked us to wait, from its response headers. Composio sends
// `Retry-After` in seconds with a 429 (docs, "Rate limits"); HTTP also allows an
// HTTP-date (RFC 9110 §10.2.3), and Composio's own generated clients read a
// millisecond `retry-after-ms` first, so we do the same.

/** Milliseconds to wait (0 for a date already past), or undefined when there is no usable hint. */
export function parseRetryAfter(headers: Headers, nowMs: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null) {
    const value = parseNumber(ms);
    if (value !== undefined) return Math.ceil(value);
  }
  const header = headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = parseNumber(header);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  // Only a date can be left: Date.parse accepts IMF-fixdate and the obsolete RFC 850 and
  // asctime forms, but also anything else it can guess at, so insist on a weekday-led form.
  if (!/^[A-Za-z]{3,9},? /.test(header.trim())) return undefined;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** A non-negative decimal number, written as digits (no sign, exponent, hex or blank). */
function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  return /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : undefined;
}
