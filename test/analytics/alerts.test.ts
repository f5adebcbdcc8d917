import { describe, expect, it } from 'vitest';
import { AlertBook, type Alert } from '../../analytics/state/alerts.js';
import { openDb } from '../../lib/sqlite.js';

const subject = { deviceId: 'SH-A001-M001', region: 'SH' as const, kind: 'meter' as const };
const text = { zh: '测试', en: 'test' };

describe('AlertBook lifecycle', () => {
  it('open → acknowledged → resolved when the condition clears', () => {
    const book = new AlertBook({ db: openDb(':memory:') });
    const seen: [string, string][] = [];
    book.onChange((a, c) => seen.push([c, a.status]));
    const a = book.raise(subject, 'drift', 1000, text, {})!;
    expect(a.status).toBe('open');
    // one active alert per device and type: raising again refreshes, no second alert
    expect(book.raise(subject, 'drift', 2000, text, {})!.id).toBe(a.id);
    expect(book.list({ limit: 10 }).items).toHaveLength(1);
    expect(book.acknowledge(a.id, 'reg-sh', 'seen, verifying', 3000)!.status).toBe('acknowledged');
    book.clear(subject.deviceId, 'drift', 4000);
    expect(book.get(a.id)!.status).toBe('resolved');
    expect(book.get(a.id)!.history.map((h) => h.status)).toEqual(['open', 'acknowledged', 'resolved']);
    expect(book.get(a.id)!.history[1]).toMatchObject({ actor: 'reg-sh', comment: 'seen, verifying' });
    expect(seen).toEqual([['opened', 'open'], ['updated', 'acknowledged'], ['updated', 'resolved']]);
  });

  it('latches when the condition clears unacknowledged, and the acknowledgement then resolves it', () => {
    const book = new AlertBook({ db: openDb(':memory:') });
    const a = book.raise(subject, 'out_of_tolerance', 1000, text, {})!;
    book.clear(subject.deviceId, 'out_of_tolerance', 2000);
    expect(book.get(a.id)!.status).toBe('latched');
    expect(book.isActive(subject.deviceId, 'out_of_tolerance')).toBe(false);
    // the condition returns before anyone looked: the same alert opens again
    expect(book.raise(subject, 'out_of_tolerance', 3000, text, {})!.id).toBe(a.id);
    expect(book.get(a.id)!.status).toBe('open');
    book.clear(subject.deviceId, 'out_of_tolerance', 4000);
    expect(book.acknowledge(a.id, 'admin', 'ok', 5000)!.status).toBe('resolved');
    // a new occurrence after resolution is a new alert
    expect(book.raise(subject, 'out_of_tolerance', 6000, text, {})!.id).not.toBe(a.id);
  });

  it('caps active alerts per device and counts what it suppressed', () => {
    const book = new AlertBook({ db: openDb(':memory:'), capPerDevice: 2 });
    expect(book.raise(subject, 'drift', 1, text, {})).not.toBeNull();
    expect(book.raise(subject, 'step', 2, text, {})).not.toBeNull();
    expect(book.raise(subject, 'silent', 3, text, {})).toBeNull();
    expect(book.suppressed).toBe(1);
    expect(book.raise({ ...subject, deviceId: 'other' }, 'silent', 3, text, {})).not.toBeNull();
  });

  it('keeps active alerts across a restart and filters lists by region', () => {
    const db = openDb(':memory:');
    const book = new AlertBook({ db });
    book.raise(subject, 'tamper', 1, text, { code: 'x' });
    book.raise({ deviceId: 'JS-1', region: 'JS', kind: 'scale' }, 'tamper', 2, text, {});
    const again = new AlertBook({ db });
    expect(again.isActive(subject.deviceId, 'tamper')).toBe(true);
    expect(again.raise(subject, 'tamper', 5, text, {})!.openedAt).toBe(1);
    const sh = again.list({ limit: 10, regions: ['SH'] }).items as Alert[];
    expect(sh.map((a) => a.deviceId)).toEqual([subject.deviceId]);
    expect(again.list({ limit: 10, regions: [] }).items).toEqual([]);
    const page1 = again.list({ limit: 1 });
    expect(page1.nextCursor).not.toBeNull();
    expect(again.list({ limit: 1, cursor: page1.nextCursor! }).items[0]!.deviceId).toBe(subject.deviceId);
  });
});

describe('AlertBook.summary', () => {
  it('counts unresolved alerts by status and severity, and openings per UTC day, in a region scope', () => {
    const book = new AlertBook({ db: openDb(':memory:') });
    const DAY = 86_400_000;
    const d0 = 20_000 * DAY;
    const js = { deviceId: 'JS-A001-M001', region: 'JS' as const, kind: 'meter' as const };
    book.raise(subject, 'out_of_tolerance', d0 + 1000, text, {}); // critical, open
    const ack = book.raise(subject, 'drift', d0 + DAY - 1, text, {})!; // last ms of day 0
    book.acknowledge(ack.id, 'reg-sh', 'seen', d0 + DAY + 5);
    const gone = book.raise(subject, 'step', d0 + DAY, text, {})!; // first ms of day 1
    book.clear(subject.deviceId, 'step', d0 + DAY + 10); // latched
    book.acknowledge(gone.id, 'reg-sh', 'ok', d0 + DAY + 20); // → resolved: no longer counted as unresolved
    book.raise(js, 'silent', d0 + 2 * DAY, text, {});
    const all = book.summary({ fromMs: d0, toMs: d0 + 3 * DAY });
    const byStatus = Object.fromEntries(['open', 'acknowledged', 'latched'].map((s) => [s, all.unresolved.filter((r) => r.status === s).reduce((a, r) => a + r.n, 0)]));
    expect(byStatus).toEqual({ open: 2, acknowledged: 1, latched: 0 });
    expect(all.unresolved.reduce((a, r) => a + r.n, 0)).toBe(3);
    expect(all.perDay).toEqual([
      { day: 20_000, n: 2 },
      { day: 20_001, n: 1 },
      { day: 20_002, n: 1 },
    ]);
    const sh = book.summary({ regions: ['SH'], fromMs: d0 + DAY, toMs: d0 + 3 * DAY });
    expect(sh.unresolved.reduce((a, r) => a + r.n, 0)).toBe(2);
    expect(sh.perDay).toEqual([{ day: 20_001, n: 1 }]);
    expect(book.summary({ regions: [], fromMs: 0, toMs: Infinity })).toEqual({ unresolved: [], perDay: [] });
  });
});

describe('quarantine bursts', () => {
  it('raise a data-quality alert on 5 quarantined messages of a device within an hour, grade it, and clear after a quiet day', async () => {
    const { createAnalytics } = await import('../../analytics/engine.js');
    const { ManualClock } = await import('../../lib/clock.js');
    const { openDb } = await import('../../lib/sqlite.js');
    const T = Date.UTC(2026, 5, 1);
    const clock = new ManualClock(T);
    const device = { id: 'SH-A001-M001', kind: 'meter', model: 'DDZY-1', accuracyClass: '2', region: 'SH', site: 'SH-A001', role: 'customer', installDate: '2022-01-01', params: {}, status: 'active', createdAt: 0 } as const;
    const head = { ...device, id: 'SH-A001-M000', role: 'head', accuracyClass: '0.5S' } as const;
    const an = createAnalytics({ db: openDb(':memory:'), clock, devicesOfSite: (s) => (s === 'SH-A001' ? [head, device] : []) });
    const row = (i: number) => ({ deviceId: device.id, site: device.site, reason: 'ING_SCHEMA_INVALID', receivedAt: T + i * 60_000 });
    // four in an hour, and one two hours later: no burst
    an.quarantined([row(0), row(10), row(20), row(30)]);
    an.quarantined([row(150)]);
    expect(an.alerts.isActive(device.id, 'quarantine_burst')).toBe(false);
    // five within an hour: a burst, once
    an.quarantined([row(160), row(170), row(180), row(190)]);
    expect(an.alerts.isActive(device.id, 'quarantine_burst')).toBe(true);
    an.quarantined([row(200), row(210)]);
    expect(an.alerts.list({ type: 'quarantine_burst', limit: 10 }).items).toHaveLength(1);
    // eleven in the day: the grade says why
    expect(an.state(device.id)?.reasons.map((r: { code: string }) => r.code)).toContain('quarantine');
    // a quiet day later the condition is gone (latched until someone acknowledges it)
    clock.set(T + 210 * 60_000 + 86_400_000 + 1);
    an.flush();
    expect(an.alerts.isActive(device.id, 'quarantine_burst')).toBe(false);
    expect(an.alerts.list({ type: 'quarantine_burst', limit: 10 }).items[0]?.status).toBe('latched');
    // and the day's count in the grade is counted from now, not from the last quarantined message
    expect(an.state(device.id)?.reasons.map((r: { code: string }) => r.code)).not.toContain('quarantine');
    // a device of no known site is ignored, not an error
    an.quarantined([{ deviceId: 'nobody', reason: 'ING_JSON_MALFORMED', receivedAt: T }]);
  });
});
