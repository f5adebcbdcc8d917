import type { Accepted } from '../../readings.js';
import type { EstimatePoint } from '../port.js';

/** Tags beyond what a reading carries: from the device registry (bounded cardinality). */
export interface DeviceTags {
  model: string;
  /** accuracy class, e.g. '2' or '0.5' */
  class: string;
}

// Line protocol escaping: https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/#special-characters
const TAG_SPECIAL = /[,= \\\n]/g;
const escapeTag = (v: string): string => (TAG_SPECIAL.test(v) ? v.replace(TAG_SPECIAL, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : v);
const escapeString = (v: string): string => v.replace(/["\\]/g, (c) => `\\${c}`);

/**
 * Encodes readings as line protocol. The measurement and tag set of a device are built once and
 * kept (pino's prebuilt-prefix habit); per point only the fields and the timestamp are formatted.
 * Tags are sorted by key, the order InfluxDB stores them in, which saves it a sort per point
 * (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_tutorial/, "Performance tips").
 * Numbers from readings are written as floats, always, so a field never changes type (a float that
 * happens to be integral must not become an integer field: InfluxDB rejects type conflicts); seq and
 * receivedAt are integers.
 */
export class LineEncoder {
  readonly #prefixes = new Map<string, string>();
  readonly #tagsOf: (deviceId: string) => DeviceTags | undefined;

  constructor(tagsOf: (deviceId: string) => DeviceTags | undefined = () => undefined) {
    this.#tagsOf = tagsOf;
  }

  #prefix(r: Accepted): string {
    // keyed by everything that goes into the prefix, so a device moving site gets a fresh one;
    // model and class are read once per process (the registry does not change them in place)
    const key = `${r.deviceId}\u0000${r.kind}\u0000${r.site}\u0000${r.region}`;
    let p = this.#prefixes.get(key);
    if (p === undefined) {
      const t = this.#tagsOf(r.deviceId);
      p = `${r.kind},${t ? `class=${escapeTag(t.class)},` : ''}device=${escapeTag(r.deviceId)},${t ? `model=${escapeTag(t.model)},` : ''}region=${escapeTag(r.region)},site=${escapeTag(r.site)} `;
      this.#prefixes.set(key, p);
    }
    return p;
  }

  encode(r: Accepted): string {
    let line = this.#prefix(r);
    for (const k in r.fields) line += `${k}=${r.fields[k] as number},`;
    line += `seq=${r.seq}i,receivedAt=${r.receivedAt}i`;
    if (r.events.length > 0) line += `,events="${escapeString(r.events.join(','))}"`;
    return `${line} ${r.ts}`;
  }
}


/** Encodes analytics outputs in their own measurement, `analytics`, with the readings' tag set. */
export function encodeEstimate(e: EstimatePoint, tags: DeviceTags | undefined): string {
  const t = tags ? `class=${escapeTag(tags.class)},` : '';
  const m = tags ? `model=${escapeTag(tags.model)},` : '';
  return `analytics,${t}device=${escapeTag(e.deviceId)},${m}region=${escapeTag(e.region)},site=${escapeTag(e.site)} ratio=${e.ratio},sd=${e.sd},error=${e.error},p_out=${e.pOut},grade="${escapeString(e.grade)}" ${e.ts}`;
}
