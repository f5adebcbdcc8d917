import { InfluxErrors } from './errors.js';

export interface QueryOptions {
  url: string;
  db: string;
  rp?: string;
  /** v1: basic auth user/password; v2/v3: a token (Authorization: Token, the DBRP-mapped bucket as db) */
  user?: string;
  password?: string;
  token?: string;
  /** ms */
  timeoutMs: number;
}

export interface Series {
  name: string;
  columns: string[];
  values: (string | number | null)[][];
}

interface QueryResponse {
  results?: { statement_id?: number; series?: Series[]; error?: string }[];
  error?: string;
}

/** An InfluxQL string literal: single quotes and backslashes escaped (InfluxQL spec, "Strings"). */
export function quoteString(v: string): string {
  return `'${v.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** An InfluxQL identifier in double quotes. */
export function quoteIdent(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * InfluxQL over the v1-compatible /query endpoint, which InfluxDB 1.x, 2.x (with a DBRP mapping)
 * and 3.x all serve: one read path for every version. Times come back as epoch ms (epoch=ms).
 */
export function createQuery(o: QueryOptions): (q: string) => Promise<Series[]> {
  const base = `${o.url.replace(/\/+$/, '')}/query`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token) headers.authorization = `Token ${o.token}`;
  else if (o.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${o.user}:${o.password ?? ''}`).toString('base64')}`;
  return async (q) => {
    const params = new URLSearchParams({ db: o.db, epoch: 'ms', q });
    if (o.rp) params.set('rp', o.rp);
    let res: Response;
    try {
      res = await fetch(`${base}?${params.toString()}`, { headers, signal: AbortSignal.timeout(o.timeoutMs) });
    } catch (err) {
      throw InfluxErrors.make('INFLUX_QUERY_FAILED', (err as Error).message, err);
    }
    const text = await res.text();
    if (!res.ok) throw InfluxErrors.make('INFLUX_QUERY_FAILED', `${res.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as QueryResponse;
    if (body.error) throw InfluxErrors.make('INFLUX_QUERY_FAILED', body.error);
    const out: Series[] = [];
    for (const r of body.results ?? []) {
      if (r.error) throw InfluxErrors.make('INFLUX_QUERY_FAILED', r.error);
      for (const s of r.series ?? []) out.push(s);
    }
    return out;
  };
}
