/**
 * Local time of the simulated fleet: China Standard Time, UTC+8 all year (no daylight saving),
 * which load profiles and opening hours follow.
 */

/** ms */
export const MINUTE_MS = 60_000;
/** ms */
export const HOUR_MS = 3_600_000;
/** ms */
export const DAY_MS = 86_400_000;
/** ms, a Julian year of 365.25 days: drift rates are per year */
export const YEAR_MS = 365.25 * DAY_MS;
/** ms, UTC+8 */
export const LOCAL_OFFSET_MS = 8 * HOUR_MS;

/** local day number since 1970-01-01 */
export function localDay(ms: number): number {
  return Math.floor((ms + LOCAL_OFFSET_MS) / DAY_MS);
}

/** local hour of day, 0–23 */
export function localHour(ms: number): number {
  return Math.floor((((ms + LOCAL_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS);
}

/** day of week of a local day number, 0 = Sunday (1970-01-01 was a Thursday) */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** fraction of the year elapsed at a local day, 0 = 1 January (approximate: 365.25-day year) */
export function yearPhase(day: number): number {
  const p = (day - 0.5) / 365.25;
  return p - Math.floor(p);
}

/** ms of the local midnight at or before `ms` */
export function localMidnight(ms: number): number {
  return localDay(ms) * DAY_MS - LOCAL_OFFSET_MS;
}
