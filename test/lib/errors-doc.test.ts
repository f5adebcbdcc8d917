import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLES } from './error-tables.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/errors.md'), 'utf8');

describe('error codes', () => {
  it('every code is documented in docs/errors.md with its status', () => {
    const missing: string[] = [];
    for (const table of Object.values(ERROR_TABLES)) {
      for (const [code, spec] of Object.entries(table)) {
        const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\``));
        if (!row || !row.includes(`| ${spec.status} |`)) missing.push(code);
      }
    }
    expect(missing).toEqual([]);
  });

  it('no code is used twice and every code carries its part prefix', () => {
    const seen = new Set<string>();
    for (const table of Object.values(ERROR_TABLES)) {
      for (const code of Object.keys(table)) {
        expect(seen.has(code)).toBe(false);
        seen.add(code);
        expect(code).toMatch(/^(REG|ING|INFLUX|BRK|DSH|SIM|ANA|SMP)_[A-Z_]+$/);
      }
    }
  });
});
