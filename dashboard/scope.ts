import type { Region } from '../ingest/readings.js';
import type { User } from '../registry/registry.js';
import { scopeOf } from './auth.js';

/**
 * The regions a list may show: the user's scope, narrowed to `region` when one is asked for.
 * Asking for a region outside one's scope yields nothing rather than an error: the list is the
 * intersection. undefined means every region (an admin asking for none in particular).
 */
export function regionsFor(user: User, region: Region | undefined): readonly Region[] | undefined {
  const scope = scopeOf(user);
  if (region === undefined) return scope;
  return scope === undefined || scope.includes(region) ? [region] : [];
}
