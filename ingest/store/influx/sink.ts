import type { Clock } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/log.js';
import { InfluxErrors } from './errors.js';
import type { Outbox, OutboxBatch } from './outbox.js';
import type { LineWriter, WriteOutcome } from './writer.js';

export interface SinkOptions {
  outbox: Outbox;
  /** one writer per lane, so lanes never share a client buffer */
  writer: () => LineWriter;
  clock: Clock;
  logger: Logger;
  /** lines per request; InfluxDB suggests 5 000–10 000 (https://docs.influxdata.com/influxdb/v1/guides/write_data/) */
  batchLines: number;
  /** requests in flight at once */
  lanes: number;
  /** ms, first back-off after a failure; doubles per failure up to backoffMaxMs, with ±20 % jitter */
  backoffMinMs: number;
  /** ms */
  backoffMaxMs: number;
  /** ms an idle lane waits before looking at the outbox again without being kicked */
  idlePollMs: number;
}

export type SinkState = 'idle' | 'running' | 'backing-off' | 'stopped-auth' | 'closed';

export interface SinkStats {
  state: SinkState;
  /** requests answered 2xx */
  requests: number;
  /** failed attempts that were retried */
  retries: number;
  /** the last error InfluxDB or the network gave, if any */
  lastError: string | null;
}

interface Waiter {
  id: number;
  resolve: () => void;
}

/**
 * The sink loop: lanes take batches from the outbox in id order, post them, and release them only
 * on a 2xx. Failures never lose lines: network errors, 429, 5xx back off (all lanes, honouring
 * Retry-After) and resend the same batch; a 400/413 is split in halves until the offending lines
 * are isolated, and those go to influx_rejected with InfluxDB's text while the rest is released
 * (InfluxDB overwrites a point of the same series and timestamp, so resending good halves is
 * harmless); 401/403 stop the sink loudly with everything still queued.
 */
export class Sink {
  readonly #o: SinkOptions;
  readonly #writers: LineWriter[] = [];
  readonly #lanes: Promise<void>[] = [];
  #cursor = 0;
  /** performance.now() ms: back-off runs on the monotonic wall clock, whatever clock stamps records */
  #pausedUntil = 0;
  #failures = 0;
  #state: SinkState = 'idle';
  #requests = 0;
  #retries = 0;
  #lastError: string | null = null;
  #wake: (() => void) | null = null;
  #wakeP: Promise<void> | null = null;
  #waiters: Waiter[] = [];
  readonly #sleepers = new Set<() => void>();

  constructor(options: SinkOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    for (let i = 0; i < this.#o.lanes; i++) {
      const w = this.#o.writer();
      this.#writers.push(w);
      this.#lanes.push(this.#lane(w));
    }
  }

  /** new lines are queued: wake idle lanes */
  kick(): void {
    const w = this.#wake;
    this.#wake = null;
    this.#wakeP = null;
    w?.();
  }

  /** resolves once every line with id ≤ id has left the outbox, or after timeoutMs */
  settled(id: number, timeoutMs: number): Promise<boolean> {
    if (this.#isSettled(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = { id, resolve: () => resolve(true) };
      this.#waiters.push(waiter);
      this.#sleep(timeoutMs).then(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          resolve(false);
        }
      });
    });
  }

  stats(): SinkStats {
    const state = this.#state === 'running' && this.#pausedUntil > performance.now() ? 'backing-off' : this.#state;
    return { state, requests: this.#requests, retries: this.#retries, lastError: this.#lastError };
  }

  /** Stops the lanes; a request in flight finishes (bounded by the writer's timeout). Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.kick();
    this.#flushTimers();
    await Promise.all(this.#lanes);
    await Promise.all(this.#writers.map((w) => w.close()));
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
  }

  #isSettled(id: number): boolean {
    const oldest = this.#o.outbox.oldestId();
    return oldest === null || oldest > id;
  }

  #notify(): void {
    if (this.#waiters.length === 0) return;
    const oldest = this.#o.outbox.oldestId();
    this.#waiters = this.#waiters.filter((w) => {
      if (oldest !== null && oldest <= w.id) return true;
      w.resolve();
      return false;
    });
  }

  get #running(): boolean {
    return this.#state === 'running';
  }

  /** a timer close() can cut short */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  #flushTimers(): void {
    for (const s of this.#sleepers) s();
    this.#sleepers.clear();
  }

  #idle(): Promise<void> {
    if (!this.#wakeP) this.#wakeP = new Promise((r) => (this.#wake = r));
    return Promise.race([this.#wakeP, this.#sleep(this.#o.idlePollMs)]);
  }

  async #lane(writer: LineWriter): Promise<void> {
    while (this.#running) {
      const wait = this.#pausedUntil - performance.now();
      if (wait > 0) {
        await this.#sleep(wait);
        continue;
      }
      const batch = this.#o.outbox.take(this.#cursor, this.#o.batchLines);
      if (!batch) {
        await this.#idle();
        continue;
      }
      this.#cursor = batch.hi;
      await this.#deliver(writer, batch);
      this.#notify();
    }
  }

  /** sends until the batch is released or rejected line by line; returns early only on close/auth stop */
  async #deliver(writer: LineWriter, batch: OutboxBatch): Promise<void> {
    for (;;) {
      if (!this.#running) return;
      const out = await writer.write(batch.lines);
      if (out.kind === 'ok') {
        this.#success();
        this.#o.outbox.release(batch.lo, batch.hi, batch.lines);
        return;
      }
      if (out.kind === 'retry') {
        await this.#backoff(out);
        continue;
      }
      if (out.kind === 'auth') {
        this.#stopAuth(out);
        return;
      }
      await this.#split(writer, batch, out);
      return;
    }
  }

  /** a rejected batch: halves until single lines, which leave for influx_rejected */
  async #split(writer: LineWriter, batch: OutboxBatch, why: Extract<WriteOutcome, { kind: 'reject' }>): Promise<void> {
    if (batch.ids.length === 1) {
      this.#o.outbox.reject(batch.lo, why.status, why.error, this.#o.clock.now());
      this.#lastError = `${why.status}: ${why.error}`;
      const e = InfluxErrors.make('INFLUX_LINE_REJECTED', why.error);
      this.#o.logger.warn({ code: e.code, status: why.status, line: batch.lines[0]?.slice(0, 300) }, e.message);
      return;
    }
    const mid = batch.ids.length >> 1;
    const halves: OutboxBatch[] = [
      { lo: batch.lo, hi: batch.ids[mid - 1] as number, ids: batch.ids.slice(0, mid), lines: batch.lines.slice(0, mid) },
      { lo: batch.ids[mid] as number, hi: batch.hi, ids: batch.ids.slice(mid), lines: batch.lines.slice(mid) },
    ];
    for (const h of halves) {
      if (!this.#running) return;
      await this.#deliver(writer, h);
    }
  }

  #success(): void {
    this.#requests++;
    this.#failures = 0;
  }

  async #backoff(out: Extract<WriteOutcome, { kind: 'retry' }>): Promise<void> {
    this.#retries++;
    this.#failures++;
    const exp = Math.min(this.#o.backoffMaxMs, this.#o.backoffMinMs * 2 ** Math.min(this.#failures - 1, 20));
    const jittered = exp * (0.8 + 0.4 * Math.random());
    const delay = Math.max(jittered, out.retryAfterMs ?? 0);
    const until = performance.now() + delay;
    // one pause for every lane: when InfluxDB is down or overloaded, no lane should keep knocking
    if (until > this.#pausedUntil) this.#pausedUntil = until;
    const msg = `${out.status}: ${out.error.slice(0, 300)}`;
    if (this.#lastError !== msg || this.#failures === 1) {
      const e = InfluxErrors.make('INFLUX_UNAVAILABLE', msg);
      this.#o.logger.warn({ code: e.code, status: out.status, delayMs: Math.round(delay), pending: this.#o.outbox.stats().pending }, e.message);
    }
    this.#lastError = msg;
    await this.#sleep(Math.max(0, this.#pausedUntil - performance.now()));
  }

  #stopAuth(out: Extract<WriteOutcome, { kind: 'auth' }>): void {
    if (this.#state !== 'running') return;
    this.#state = 'stopped-auth';
    this.#lastError = `${out.status}: ${out.error.slice(0, 300)}`;
    const e = InfluxErrors.make('INFLUX_AUTH_FAILED', this.#lastError);
    this.#o.logger.error({ code: e.code, status: out.status, pending: this.#o.outbox.stats().pending }, e.message);
    this.#flushTimers();
    this.kick();
  }
}
