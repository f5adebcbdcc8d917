/**
 * A horizontal cylindrical underground tank and its strapping table (level → volume at 1 mm
 * steps), as automatic tank gauges use one: the gauge measures the level and reports the
 * volume read off the table, so the simulated gauge does the same.
 *
 * Cross-section filled to height h of a circle of radius r: A(h) = r² acos((r − h)/r) − (r − h)√(2rh − h²).
 */
export class TankGeometry {
  /** L */
  readonly capacityL: number;
  /** mm */
  readonly diameterMm: number;
  /** mm */
  readonly lengthMm: number;
  /** L at each whole mm of level */
  readonly #table: Float64Array;

  constructor(capacityL: number, diameterMm: number) {
    const r = diameterMm / 2;
    this.capacityL = capacityL;
    this.diameterMm = diameterMm;
    // L = 1e6 mm³
    this.lengthMm = (capacityL * 1e6) / (Math.PI * r * r);
    const n = Math.ceil(diameterMm);
    this.#table = new Float64Array(n + 1);
    for (let i = 0; i <= n; i++) {
      const h = Math.min(i, diameterMm);
      const area = r * r * Math.acos((r - h) / r) - (r - h) * Math.sqrt(Math.max(0, 2 * r * h - h * h));
      this.#table[i] = (area * this.lengthMm) / 1e6;
    }
  }

  /** L at a level in mm (linear between table rows) */
  volumeAt(levelMm: number): number {
    const t = this.#table;
    const last = t.length - 1;
    if (levelMm <= 0) return 0;
    if (levelMm >= last) return t[last] as number;
    const i = Math.floor(levelMm);
    const lo = t[i] as number;
    return lo + ((t[i + 1] as number) - lo) * (levelMm - i);
  }

  /** mm at a volume in L (binary search of the table, linear between rows) */
  levelAt(volumeL: number): number {
    const t = this.#table;
    const last = t.length - 1;
    if (volumeL <= 0) return 0;
    if (volumeL >= (t[last] as number)) return last;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if ((t[mid] as number) <= volumeL) lo = mid;
      else hi = mid;
    }
    const a = t[lo] as number;
    return lo + (volumeL - a) / ((t[hi] as number) - a);
  }
}
