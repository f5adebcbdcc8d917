/** One CSV field (RFC 4180 section 2: quote fields holding commas, quotes or line breaks; double the quotes). */
function field(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // A leading = + - @ makes spreadsheets evaluate the cell (OWASP "CSV Injection"): prefix a quote.
  // Only a whole number is exempt ("-2.5", "-1e-3"): "-2+3+cmd|…" starts like one and is a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A CSV document with a header row; lines end in CRLF as RFC 4180 asks. */
export function toCsv<T>(columns: readonly { name: string; value: (row: T) => unknown }[], rows: readonly T[]): string {
  const lines = [columns.map((c) => field(c.name)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => field(c.value(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
