/**
 * Counts ingest calls in flight so close() can wait for them: the composition root closes
 * ingest after the broker, and must not do so under a message that is still being stored.
 * A counter and one waiter list rather than a Set of promises: nothing is allocated per message.
 */
export class Inflight {
  #count = 0;
  #waiters: (() => void)[] = [];

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  leave(): void {
    if (--this.#count > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
