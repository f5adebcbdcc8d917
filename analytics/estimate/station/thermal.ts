/** °C, reference temperature of fuel volumes (ISO 91, GB/T 1885) */
export const REF_C = 15;

/**
 * Volume at 15 °C of a volume measured at `tempC`: V15 = V / (1 + β(T − 15)), β the product's
 * volumetric expansion (≈ 0.0012 /°C gasoline, 0.0008 /°C diesel; DOMAIN.md §3, UNCONFIRMED).
 * Gauge volumes and dispensed volumes are both corrected with the tank's β, so a β that is off
 * scales both alike and cancels from their ratio.
 */
export function toRef(volumeL: number, tempC: number, beta: number): number {
  return volumeL / (1 + beta * (tempC - REF_C));
}

/**
 * Sensitivity of a horizontal cylindrical tank's strapping volume to a relative level error:
 * V(h(1+ε)) ≈ V(h) + ε·u(h), u(h) = h·dV/dh = h · 2√(h(D − h)) · len, in L, with
 * len = capacity / (π r²). A gauge's level error therefore does not scale volume drops evenly:
 * u(V) bends over the fill range, which makes ε identifiable inside one reconciliation cycle.
 * Returns null without geometry in the registry (the ε term then stays at its prior).
 */
export function levelSensitivity(capacityL: number | undefined, diameterMm: number | undefined): ((levelMm: number) => number) | null {
  if (!capacityL || !diameterMm || capacityL <= 0 || diameterMm <= 0) return null;
  const r = diameterMm / 2;
  const perMm2 = capacityL / (Math.PI * r * r);
  return (h: number): number => {
    const x = Math.min(Math.max(h, 0), diameterMm);
    return x * 2 * Math.sqrt(x * (diameterMm - x)) * perMm2;
  };
}
