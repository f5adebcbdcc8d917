/**
 * Demand shapes. Hourly factors (local time, UTC+8) are normalised to a mean of 1 over the day
 * so a customer's scale is its mean demand. Shapes follow the familiar Chinese distribution-load
 * patterns: residential morning and larger evening peaks, commercial office hours, small
 * industry near-flat with a lighter night shift.
 */

export const LOAD_TYPES = ['residential', 'commercial', 'industrial'] as const;
export type LoadType = (typeof LOAD_TYPES)[number];

function normalise(xs: readonly number[]): Float64Array {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Float64Array.from(xs, (x) => x / mean);
}

// hour:        0    1    2    3    4    5    6    7    8    9   10   11   12   13   14   15   16   17   18   19   20   21   22   23
const RESIDENTIAL = [0.5, 0.4, 0.35, 0.35, 0.35, 0.4, 0.7, 1.1, 1.2, 0.9, 0.8, 0.9, 1.1, 0.9, 0.8, 0.8, 0.9, 1.2, 1.7, 2.0, 2.0, 1.8, 1.3, 0.8];
const COMMERCIAL = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.7, 1.3, 1.7, 1.8, 1.8, 1.6, 1.7, 1.8, 1.8, 1.7, 1.5, 1.2, 0.9, 0.7, 0.5, 0.4, 0.3];
const INDUSTRIAL = [0.7, 0.7, 0.7, 0.7, 0.7, 0.75, 0.9, 1.1, 1.2, 1.2, 1.2, 1.2, 1.1, 1.2, 1.2, 1.2, 1.2, 1.1, 1.0, 1.0, 1.0, 0.9, 0.8, 0.75];

/** hourly demand factors, indexed [type][hour] (type as in LOAD_TYPES) */
export const HOURLY: readonly Float64Array[] = [normalise(RESIDENTIAL), normalise(COMMERCIAL), normalise(INDUSTRIAL)];

/** weekend multiplier per type: homes use more, offices and workshops less */
export const WEEKEND: readonly number[] = [1.1, 0.55, 0.75];

/** W, median mean demand per type (lognormal spread around it) */
export const MEDIAN_W: readonly number[] = [450, 3_000, 15_000];

/** share of customers of each type */
export const TYPE_SHARE: readonly number[] = [0.75, 0.18, 0.07];

/**
 * Seasonal multiplier at a year phase (0 = 1 January): residential peaks with heating in January
 * and air conditioning in July–August; commercial with cooling in summer; industry flat.
 */
export function seasonal(type: number, phase: number): number {
  if (type === 0) return 1 + 0.15 * Math.cos(4 * Math.PI * (phase - 0.04)) + 0.08 * Math.cos(2 * Math.PI * (phase - 0.55));
  if (type === 1) return 1 + 0.15 * Math.cos(2 * Math.PI * (phase - 0.55));
  return 1;
}

/** hourly factors of fuel sales (mean 1): commuter peaks, quiet nights */
export const FUEL_HOURLY: Float64Array = normalise([
  0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.8, 1.6, 1.8, 1.3, 1.1, 1.1, 1.2, 1.1, 1.1, 1.2, 1.4, 1.8, 1.9, 1.5, 1.1, 0.8, 0.5, 0.3,
]);

/** local hours in which markets weigh goods and check weights are tested: [open, close) */
export const MARKET_OPEN_H = 6;
export const MARKET_CLOSE_H = 20;
