import mqtt from 'mqtt';
import { adminApi, adminPassword, loginToken, type PlatformProcess } from './platform-process.js';

export interface Registered {
  id: string;
  secret: string;
}

/** Registers `n` meters through the CSV import, as an operator would. */
export async function registerMeters(p: PlatformProcess, n: number): Promise<Registered[]> {
  const rows = ['id,kind,model,accuracyClass,region,site,role,installDate'];
  for (let i = 0; i < n; i++) rows.push(`IT-M${String(i).padStart(5, '0')},meter,DDZY-${i % 3},${i % 2 === 0 ? '2' : '1'},JS,JS-A${String(i % 40).padStart(3, '0')},customer,2023-01-01`);
  const base = p.base;
  // adminApi sends JSON only; the import takes text/csv
  const token = await loginToken(p, 'admin', adminPassword(p));
  const r = await fetch(`${base}/api/devices/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: rows.join('\n') });
  if (!r.ok) throw new Error(`import: ${r.status} ${await r.text()}`);
  const report = (await r.json()) as { created: { id: string; secret: string }[]; failed: unknown[] };
  if (report.failed.length > 0) throw new Error(`import failed rows: ${JSON.stringify(report.failed.slice(0, 3))}`);
  return report.created.map((c) => ({ id: c.id, secret: c.secret }));
}


/** the reading a device publishes for a seq: deterministic, so tests spot-check values */
export function meterReading(t0: number, deviceIndex: number, seq: number) {
  return { ts: t0 + seq * 1000, seq, energyWh: deviceIndex * 1_000_000 + seq * 10.5, powerW: 100 + (seq % 7) * 0.25 };
}

/**
 * Each device connects with its own credentials and publishes `perDevice` readings as QoS 1
 * batches of `batch`; `parallel` devices at a time. Resolves when every PUBACK has arrived.
 */
export async function publishAll(mqttPort: number, devices: readonly Registered[], t0: number, perDevice: number, batch: number, parallel: number): Promise<number> {
  let acked = 0;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const d = devices[i];
      if (!d) return;
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: d.id, username: d.id, password: d.secret, protocolVersion: 4, reconnectPeriod: 0 });
      const pubs: Promise<unknown>[] = [];
      for (let s = 1; s <= perDevice; s += batch) {
        const readings = [];
        for (let k = s; k < s + batch && k <= perDevice; k++) readings.push(meterReading(t0, i, k));
        pubs.push(c.publishAsync(`devices/${d.id}/readings`, JSON.stringify(readings), { qos: 1 }).then(() => (acked += readings.length)));
      }
      await Promise.all(pubs);
      await c.endAsync();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return acked;
}

/** polls /api/stats until the InfluxDB outbox is empty and everything accepted was written */
export async function waitDrained(p: PlatformProcess, timeoutMs: number): Promise<{ written: number; pending: number; failed: number }> {
  const api = await adminApi(p);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api<{ influx: { written: number; pending: number; failed: number } | null }>('/api/stats');
    const s = body.influx;
    if (!s) throw new Error('the platform does not run the InfluxDB store');
    if (s.pending === 0) return s;
    if (Date.now() > deadline) throw new Error(`outbox did not drain: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
