/**
 * Growable typed-array queues for one tank: gauge readings kept sorted by event time (they
 * mostly arrive in order, so insertion is O(1) amortised) and transactions not yet folded in.
 * Capacity doubles when full and never shrinks, so a long hold allocates a few times, not per
 * reading.
 */
export class GaugeQueue {
  ts = new Float64Array(64);
  /** kL at 15 °C */
  v15 = new Float64Array(64);
  /** kL, level-error sensitivity u(h) at 15 °C */
  u = new Float64Array(64);
  delivery = new Uint8Array(64);
  head = 0;
  len = 0;

  /** Inserts in event-time order; false for a duplicate time. */
  insert(ts: number, v15: number, u: number, delivery: boolean): boolean {
    if (this.head + this.len === this.ts.length) this.#make();
    let i = this.head + this.len;
    while (i > this.head && (this.ts[i - 1] as number) > ts) i--;
    if (i > this.head && this.ts[i - 1] === ts) return false;
    const end = this.head + this.len;
    if (i < end) {
      this.ts.copyWithin(i + 1, i, end);
      this.v15.copyWithin(i + 1, i, end);
      this.u.copyWithin(i + 1, i, end);
      this.delivery.copyWithin(i + 1, i, end);
    }
    this.ts[i] = ts;
    this.v15[i] = v15;
    this.u[i] = u;
    this.delivery[i] = delivery ? 1 : 0;
    this.len++;
    return true;
  }

  /** ms, event time of the oldest queued reading (Infinity when empty) */
  peekTs(): number {
    return this.len > 0 ? (this.ts[this.head] as number) : Infinity;
  }

  shift(): void {
    this.head++;
    this.len--;
    if (this.len === 0) this.head = 0;
  }

  #make(): void {
    const { head, len } = this;
    if (head > 0) {
      this.ts.copyWithin(0, head, head + len);
      this.v15.copyWithin(0, head, head + len);
      this.u.copyWithin(0, head, head + len);
      this.delivery.copyWithin(0, head, head + len);
      this.head = 0;
      if (len < this.ts.length / 2) return;
    }
    const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    this.ts = grow(this.ts, (n) => new Float64Array(n));
    this.v15 = grow(this.v15, (n) => new Float64Array(n));
    this.u = grow(this.u, (n) => new Float64Array(n));
    this.delivery = grow(this.delivery, (n) => new Uint8Array(n));
  }
}

export class TxQueue {
  ts = new Float64Array(64);
  nozzle = new Int32Array(64);
  /** kL at 15 °C, mechanical (pulse-derived) volume */
  m15 = new Float64Array(64);
  /** L, indicated volume */
  ind = new Float64Array(64);
  /** L, mechanical volume */
  mech = new Float64Array(64);
  len = 0;

  push(ts: number, nozzle: number, m15: number, ind: number, mech: number): void {
    if (this.len === this.ts.length) {
      const n = this.len * 2;
      const f = (a: Float64Array): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(n);
        b.set(a);
        return b;
      };
      this.ts = f(this.ts);
      this.m15 = f(this.m15);
      this.ind = f(this.ind);
      this.mech = f(this.mech);
      const z = new Int32Array(n);
      z.set(this.nozzle);
      this.nozzle = z;
    }
    const i = this.len++;
    this.ts[i] = ts;
    this.nozzle[i] = nozzle;
    this.m15[i] = m15;
    this.ind[i] = ind;
    this.mech[i] = mech;
  }
}
