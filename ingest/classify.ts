import type { z } from 'zod';
import type { RejectReason } from './errors.js';

/** Longest detail text kept with a quarantined reading. */
const MAX_DETAIL_CHARS = 500;

/**
 * A value issue is a number that is non-finite or outside its physical bound: zod 4 reports the
 * former as `invalid_type` with `received` 'NaN' / 'Infinity', the latter as `too_big` /
 * `too_small` with a numeric origin. Anything else (wrong type, unknown key, unknown event,
 * non-integer seq, the scale's check-pair refinement) is a schema issue.
 */
function isValueIssue(issue: z.core.$ZodIssue): boolean {
  switch (issue.code) {
    case 'too_big':
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int';
    case 'invalid_type':
      return (issue as { received?: unknown }).received === 'NaN' || (issue as { received?: unknown }).received === 'Infinity';
    default:
      return false;
  }
}

/** Maps a failed parse to a reason: ING_VALUE_ABSURD only when every issue is a value issue. */
export function classifyIssues(issues: readonly z.core.$ZodIssue[]): { reason: RejectReason; detail: string } {
  const reason: RejectReason = issues.length > 0 && issues.every(isValueIssue) ? 'ING_VALUE_ABSURD' : 'ING_SCHEMA_INVALID';
  let detail = issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  if (detail.length > MAX_DETAIL_CHARS) detail = `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…`;
  return { reason, detail };
}
