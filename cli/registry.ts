import { join } from 'node:path';
import { openDb } from '../lib/sqlite.js';
import { Registry } from '../registry/registry.js';

/** Opens the registry database under DATA_DIR. */
export function openRegistry(dataDir: string) {
  const db = openDb(join(dataDir, 'registry.db'));
  return { db, registry: new Registry(db), close: () => db.close() };
}

/** Runs `use` with the registry under DATA_DIR open, and closes it after, whatever happens: what every registry command does. */
export async function withRegistry<T>(dataDir: string, use: (registry: Registry) => T | Promise<T>): Promise<T> {
  const reg = openRegistry(dataDir);
  try {
    return await use(reg.registry);
  } finally {
    reg.close();
  }
}
