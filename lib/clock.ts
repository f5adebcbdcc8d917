/** A source of time. Everything that needs "now" is handed one; nothing reads Date.now() itself. */
export interface Clock {
  /** ms since epoch */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Simulated time that runs `speed` times faster than the wall clock from `startMs`,
 * and never runs ahead of the wall clock: once it catches up with the present it
 * continues at real speed. The demo fleet replays the past up to now with it, so
 * accelerated timestamps never look like the future to ingest.
 */
export class AcceleratedClock implements Clock {
  readonly #startMs: number;
  readonly #speed: number;
  readonly #wallStart: number;
  readonly #wall: Clock;

  constructor(startMs: number, speed: number, wall: Clock = systemClock) {
    this.#startMs = startMs;
    this.#speed = speed;
    this.#wall = wall;
    this.#wallStart = wall.now();
  }

  /** the acceleration currently in force (1 once caught up) */
  get speed(): number {
    return this.now() >= this.#wall.now() ? 1 : this.#speed;
  }

  now(): number {
    const wallNow = this.#wall.now();
    const simulated = this.#startMs + (wallNow - this.#wallStart) * this.#speed;
    return Math.min(simulated, wallNow);
  }
}

/** A clock tests and in-process evaluations move by hand. */
export class ManualClock implements Clock {
  #t: number;
  constructor(startMs = 0) {
    this.#t = startMs;
  }
  now(): number {
    return this.#t;
  }
  set(ms: number): void {
    this.#t = ms;
  }
  advance(ms: number): void {
    this.#t += ms;
  }
}
