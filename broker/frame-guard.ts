import type { Duplex } from 'node:stream';

const HEADER = 0;
const LENGTH = 1;
const BODY = 2;

/**
 * Follows MQTT framing (MQTT 3.1.1, 2.2: one byte of packet type and flags, then the Remaining
 * Length as a variable byte integer of at most four bytes) over the chunks a client sends,
 * without copying them, and reports a packet whose Remaining Length exceeds a ceiling as soon
 * as its header arrives — before its body is buffered.
 *
 * Why: aedes 1.2 has no packet size option and its parser (mqtt-packet 9) buffers a packet whole,
 * up to the protocol's 256 MiB, before handing it on, so a single client could hold that much
 * memory. This guard bounds it.
 *
 * The ceiling can change while the stream runs (`maxBytes`): the broker starts a connection on a
 * small one and raises it once the client has authenticated, so a connection nobody has
 * vouched for yet can make the broker buffer only a small packet. A change applies from the
 * next packet header on; a packet whose header was already read keeps the verdict it had.
 */
export class FrameGuard {
  #maxBytes: number;
  #state = HEADER;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #skip = 0;
  /** bytes, the Remaining Length of the packet that broke the ceiling (-1 for a malformed length) */
  announced = 0;

  /** @param maxBytes bytes, the largest Remaining Length allowed */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** bytes, the largest Remaining Length allowed from the next packet header on */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  set maxBytes(bytes: number) {
    this.#maxBytes = bytes;
  }

  /** Feeds the next chunk of the stream. False once a packet over the ceiling (or a malformed length) was seen. */
  push(chunk: Buffer): boolean {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#state === BODY) {
        const take = Math.min(this.#skip, n - i);
        this.#skip -= take;
        i += take;
        if (this.#skip === 0) this.#state = HEADER;
      } else if (this.#state === HEADER) {
        i++;
        this.#state = LENGTH;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else {
        const byte = chunk[i++] as number;
        this.#length += (byte & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if (byte & 0x80) {
          if (this.#lengthBytes === 4) {
            this.announced = -1;
            return false;
          }
          continue;
        }
        if (this.#length > this.#maxBytes) {
          this.announced = this.#length;
          return false;
        }
        this.#skip = this.#length;
        this.#state = this.#skip === 0 ? HEADER : BODY;
      }
    }
    return true;
  }
}

/**
 * Destroys `stream` when the client sends a packet larger than the guard's ceiling, which
 * starts at `maxBytes`; the returned guard lets the caller change the ceiling later (the broker
 * raises it once the client has authenticated). `onOversize` gets the announced length and the
 * ceiling that it broke.
 *
 * It listens to 'data', which a Readable emits for every chunk `read()` returns even in paused
 * mode (Node stream docs, readable.read()); aedes 1.2 consumes its connection through
 * 'readable' + `read()`, so adding this listener after `aedes.handle()` sees each chunk just
 * before aedes parses it and does not switch the stream to flowing mode.
 */
export function guardFrameSize(stream: Duplex, maxBytes: number, onOversize: (announcedBytes: number, maxBytes: number) => void): FrameGuard {
  const guard = new FrameGuard(maxBytes);
  const onData = (chunk: Buffer): void => {
    if (guard.push(chunk)) return;
    stream.removeListener('data', onData);
    onOversize(guard.announced, guard.maxBytes);
    stream.destroy();
  };
  stream.on('data', onData);
  return guard;
}
