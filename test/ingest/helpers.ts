import type { Device } from '../../registry/registry.js';
import type { Kind, Region } from '../../ingest/readings.js';

/** ms: 2024-06-01T00:00:00Z */
export const NOW = Date.UTC(2024, 5, 1);
export const DAY_MS = 86_400_000;

export function device(id: string, kind: Kind, region: Region = 'SH'): Device {
  return {
    id,
    kind,
    model: 'T-1',
    accuracyClass: '1',
    region,
    site: `site-${region}`,
    role: 'customer',
    installDate: '2024-01-01',
    params: {},
    status: 'active',
    createdAt: 0,
  };
}

export const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v), 'utf8');

export const goodReading = {
  meter: (seq: number, ts = NOW) => ({ ts, seq, energyWh: 1_234_567, powerW: 850, voltageV: 229.8, currentA: 3.7, events: ['cover_open'] }),
  dispenser: (seq: number, ts = NOW) => ({ ts, seq, nozzle: 2, volumeL: 41.37, totalizerL: 812_345.6, pulses: 4137, temperatureC: 18.5 }),
  tank: (seq: number, ts = NOW) => ({ ts, seq, levelMm: 1520, volumeL: 23_100, temperatureC: 16.2, deliveryL: 0 }),
  scale: (seq: number, ts = NOW) => ({ ts, seq, zeroKg: 0.002, checkRefKg: 10, checkIndicatedKg: 10.005, tiltDeg: 0.3 }),
} as const;
