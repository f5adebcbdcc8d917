import { parse, type CsvError } from 'csv-parse/sync';
import { DriftwatchError, errorTable } from '../lib/errors.js';
import type { Registry } from './registry.js';

/**
 * Codes of the CSV import that concern the file as a whole. They belong with RegistryErrors
 * (registry/errors.ts); they live here until they are moved there.
 */
export const CsvImportErrors = errorTable({
  REG_CSV_HEADER: { message: 'CSV header is not id,kind,model,accuracyClass,region,site,role,installDate', status: 400 },
  REG_CSV_TOO_MANY_ROWS: { message: 'CSV has too many rows for one import', status: 413 },
  REG_CSV_ROW_INVALID: { message: 'CSV row cannot be read', status: 400 },
});

export const CSV_COLUMNS = ['id', 'kind', 'model', 'accuracyClass', 'region', 'site', 'role', 'installDate'] as const;
const REQUIRED = new Set<string>(['id', 'kind', 'model', 'accuracyClass', 'region', 'site', 'installDate']);
/** Extra columns `params.<name>` carry the instrument's numeric parameters (e.g. params.e for a scale's interval, kg). */
const PARAM_PREFIX = 'params.';

export interface ImportCreated {
  /** line of the file the row ends on (the header is line 1) */
  row: number;
  id: string;
  secret: string;
}
export interface ImportFailed {
  row: number;
  id?: string;
  error: { code: string; message: string };
}
export interface ImportReport {
  created: ImportCreated[];
  failed: ImportFailed[];
}

export interface ImportOptions {
  /** data rows accepted in one file */
  maxRows?: number;
  /** rows added between yields to the event loop */
  yieldEvery?: number;
}

function checkHeader(header: readonly string[]): void {
  const seen = new Set<string>();
  for (const h of header) {
    const known = (CSV_COLUMNS as readonly string[]).includes(h) || (h.startsWith(PARAM_PREFIX) && h.length > PARAM_PREFIX.length);
    if (!known) throw CsvImportErrors.make('REG_CSV_HEADER', `unknown column "${h}"`);
    if (seen.has(h)) throw CsvImportErrors.make('REG_CSV_HEADER', `column "${h}" appears twice`);
    seen.add(h);
  }
  const missing = [...REQUIRED].filter((c) => !seen.has(c));
  if (missing.length) throw CsvImportErrors.make('REG_CSV_HEADER', `missing ${missing.join(', ')}`);
}

/** A row as the registry's DeviceInput expects it; empty cells are left out so defaults apply. */
function toInput(header: readonly string[], cells: readonly string[]): { input: Record<string, unknown>; bad: string | null } {
  const input: Record<string, unknown> = {};
  const params: Record<string, number> = {};
  for (let i = 0; i < header.length; i++) {
    const name = header[i] as string;
    const cell = cells[i] ?? '';
    if (cell === '') continue;
    if (name.startsWith(PARAM_PREFIX)) {
      const v = Number(cell);
      if (!Number.isFinite(v)) return { input, bad: `${name}: expected a number, got "${cell}"` };
      params[name.slice(PARAM_PREFIX.length)] = v;
    } else input[name] = cell;
  }
  if (Object.keys(params).length) input.params = params;
  return { input, bad: null };
}

/**
 * Adds the devices of a CSV file (header row first, RFC 4180 quoting), each row on its own:
 * a bad row is reported and the others go on. Each created device's secret is in the report,
 * the only time it is shown. Secret hashing blocks, so the work yields to the event loop every
 * `yieldEvery` rows and a large import does not stall the API or the broker.
 */
export async function importDevicesCsv(registry: Registry, csvText: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const maxRows = opts.maxRows ?? 10_000;
  const yieldEvery = opts.yieldEvery ?? 100;
  const failed: ImportFailed[] = [];
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    // With `info: true` csv-parse yields {record, info}; its typings only know plain records.
    rows = parse(csvText, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      skip_records_with_error: true,
      info: true,
      on_skip: (err: CsvError | undefined) => {
        const line = typeof err?.lines === 'number' ? err.lines : 0;
        failed.push({ row: line, error: { code: 'REG_CSV_ROW_INVALID', message: `${CsvImportErrors.codes.REG_CSV_ROW_INVALID.message}: ${err?.message ?? 'unreadable'}` } });
        return undefined;
      },
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw CsvImportErrors.make('REG_CSV_ROW_INVALID', err instanceof Error ? err.message : String(err), err);
  }
  const [head, ...data] = rows;
  if (!head) throw CsvImportErrors.make('REG_CSV_HEADER', 'the file is empty');
  const header = head.record;
  checkHeader(header);
  if (data.length > maxRows) throw CsvImportErrors.make('REG_CSV_TOO_MANY_ROWS', `${data.length} rows, at most ${maxRows}`);

  const created: ImportCreated[] = [];
  for (let n = 0; n < data.length; n++) {
    if (n > 0 && n % yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const { record, info } = data[n] as { record: string[]; info: { lines: number } };
    const row = info.lines;
    const id = record[header.indexOf('id')] || undefined;
    const at = id === undefined ? { row } : { row, id };
    if (record.length !== header.length) {
      failed.push({ ...at, error: { code: 'REG_CSV_ROW_INVALID', message: `expected ${header.length} columns, got ${record.length}` } });
      continue;
    }
    const { input, bad } = toInput(header, record);
    if (bad) {
      failed.push({ ...at, error: { code: 'REG_DEVICE_INVALID', message: bad } });
      continue;
    }
    try {
      const { device, secret } = registry.addDevice(input);
      created.push({ row, id: device.id, secret });
    } catch (err) {
      if (!(err instanceof DriftwatchError)) throw err;
      failed.push({ ...at, error: { code: err.code, message: err.message } });
    }
  }
  failed.sort((a, b) => a.row - b.row);
  return { created, failed };
}
