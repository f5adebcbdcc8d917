import type { Accepted } from '../../ingest/readings.js';
import type { Device } from '../../registry/registry.js';
import { relativeMpe } from '../mpe/mpe.js';
import { AreaBalance, type AreaBalanceOptions } from './area-balance.js';
import type { SiteEstimator, SiteOutput } from './types.js';

const DAY = 86_400_000;
/** Events a meter raises itself when someone interferes with it (DOMAIN.md §6). */
const TAMPER_EVENTS = new Set(['magnetic', 'bypass', 'terminal_open']);

/**
 * Watches a meter's register against its power: a register that stops advancing while the meter
 * measures power has failed (or been stopped). From then on the balance is fed the energy the
 * power readings imply, so one dead register does not corrupt its neighbours' estimates.
 */
class StuckWatch {
  lastTs = -Infinity;
  lastE = 0;
  /** Wh of power-implied energy while the register stands */
  implied = 0;
  flat = 0;
  stuck = false;

  /** Returns the register value to feed the balance. */
  register(ts: number, e: number, powerW: number): number {
    if (ts <= this.lastTs) return e + this.implied;
    const dtH = (ts - this.lastTs) / 3_600_000;
    const expected = powerW * dtH;
    if (this.lastTs > -Infinity && expected > 50 && e - this.lastE < expected * 0.02) this.flat++;
    else if (e - this.lastE >= expected * 0.5) {
      this.flat = 0;
      this.stuck = false;
    }
    if (this.flat >= 3) this.stuck = true;
    if (this.stuck && this.lastTs > -Infinity) this.implied += expected;
    this.lastTs = ts;
    this.lastE = e;
    return e + this.implied;
  }
}

/**
 * The transformer-area estimator: feeds the energy balance, emits each customer meter's error
 * once per day of event time, and reports the meter tamper signatures: tamper events, and an
 * estimated error collapsing toward −100 % (a bypass).
 */
export function createAreaEstimator(site: string, devices: readonly Device[], opts: Partial<AreaBalanceOptions> & { bypassError?: number } = {}): SiteEstimator & { stepReopens(): number } {
  const meters = devices.filter((d) => d.kind === 'meter');
  const head = meters.find((d) => d.role === 'head');
  const customers = meters.filter((d) => d !== head);
  const mpe = new Map<string, number>();
  for (const d of customers) mpe.set(d.id, relativeMpe(d)?.mpe ?? 0.02);
  const balance = head ? new AreaBalance(head.id, customers.map((d) => d.id), opts) : null;
  const bypassError = opts.bypassError ?? -0.3;
  const pendingTamper: { deviceId: string; ts: number; code: string; zh: string; en: string }[] = [];
  const stuck = new Map<string, StuckWatch>();
  for (const d of customers) stuck.set(d.id, new StuckWatch());
  let lastDay = -Infinity;
  /** consecutive settled days each meter's estimate showed a bypass */
  const bypassDays = new Map<string, number>();

  return {
    /** meters the balance's step CUSUM has re-opened so far */
    stepReopens: () => balance?.stepReopens ?? 0,
    add(r: Accepted): void {
      if (r.kind !== 'meter') return;
      let e = r.fields['energyWh'];
      const w = stuck.get(r.deviceId);
      if (w && e !== undefined) {
        const was = w.stuck;
        e = w.register(r.ts, e, r.fields['powerW'] ?? 0);
        if (w.stuck && !was) {
          pendingTamper.push({ deviceId: r.deviceId, ts: r.ts, code: 'stuck_register', zh: '电能寄存器停止走字而功率不为零（计量功能异常）', en: 'the energy register stopped advancing while power flows (metering function failed)' });
        }
      }
      if (balance && e !== undefined) balance.add(r.deviceId, r.ts, e);
      if (r.events.length) {
        const hits = r.events.filter((x) => TAMPER_EVENTS.has(x));
        if (hits.length) {
          // the meter says someone interfered: let the balance re-learn it at once
          balance?.reopen(r.deviceId, r.ts);
          pendingTamper.push({ deviceId: r.deviceId, ts: r.ts, code: 'meter_events', zh: `电表报告 ${hits.join('、')} 事件`, en: `the meter reported ${hits.join(', ')}` });
        }
      }
    },
    flush(out: SiteOutput): void {
      for (const t of pendingTamper.splice(0)) out.tamper(t);
      if (!balance) return;
      // one set of estimates per day of event time, at the first boundary of each new day the
      // balance reaches: the same series whether the readings came live or replayed in slices
      // (shorter than the balance's register ring, 32 days, as the warm-up's are)
      balance.step((ts) => {
        const day = Math.floor(ts / DAY);
        if (day <= lastDay) return;
        lastDay = day;
        emitDay(out, ts);
      });
    },
  };

  function emitDay(out: SiteOutput, ts: number): void {
    if (!balance) return;
    for (const d of customers) {
      const est = balance.estimate(d.id);
      if (!est) continue;
      const m = mpe.get(d.id) as number;
      const provisional = ts < balance.provisionalUntil(d.id);
      out.sample({ deviceId: d.id, ts, ratio: est.error / m, sd: est.sd / m, error: est.error, provisional, ratePerDay: est.ratePerYear / m / 365, rateSd: est.rateSd / m / 365, innovationZ: balance.innovation(d.id) });
      // a bypass must show on two settled days running: a balance re-learning after a
      // neighbour's step can swing a healthy meter's estimate that far for a day
      const bypass = !provisional && est.error < bypassError && est.error + 3 * est.sd < bypassError / 2;
      const run = bypass ? (bypassDays.get(d.id) ?? 0) + 1 : 0;
      bypassDays.set(d.id, run);
      if (run === 2) {
        out.tamper({ deviceId: d.id, ts, code: 'bypass', zh: `能量平衡显示该表少计 ${Math.round(-est.error * 100)}%，疑似旁路窃电`, en: `the energy balance shows the meter under-registering by ${Math.round(-est.error * 100)}%, a bypass signature` });
      }
    }
  }
}
