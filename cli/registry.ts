import { join } from 'node:path';
import { openDb } from '../lib/sqlite.js';
import { Registry } from '../registry/registry.js';

/** Opens the registry database under DATA_DIR. */
export function openRegistry(dataDir: string) {
  const db = openDb(join(dataDir, 'registry.db'));
  return { db, registry: new Registry(db), close: () => db.close() };
}
