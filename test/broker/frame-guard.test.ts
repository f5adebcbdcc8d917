import { describe, expect, it } from 'vitest';
import { FrameGuard } from '../../broker/frame-guard.js';
import { fixedHeader } from './fixture.js';

/** A PUBLISH fixed header with the given Remaining Length (MQTT 3.1.1, 2.2.3), then that many bytes. */
function packet(remaining: number): Buffer {
  return Buffer.concat([fixedHeader(0x32, remaining), Buffer.alloc(remaining, 1)]);
}

describe('FrameGuard', () => {
  it('passes packets up to the ceiling, however the stream is chunked', () => {
    const stream = Buffer.concat([packet(0), packet(127), packet(128), packet(16_384), packet(1000)]);
    for (const size of [1, 2, 3, 7, 64, 4096, stream.length]) {
      const guard = new FrameGuard(16_384);
      let ok = true;
      for (let i = 0; i < stream.length; i += size) ok &&= guard.push(stream.subarray(i, i + size));
      expect(ok, `chunks of ${size}`).toBe(true);
    }
  });

  it('reports a packet over the ceiling from its header, before its body', () => {
    const guard = new FrameGuard(16_384);
    expect(guard.push(packet(10))).toBe(true);
    const big = packet(16_385);
    expect(guard.push(big.subarray(0, 2))).toBe(true);
    expect(guard.push(big.subarray(2, 4))).toBe(false);
    expect(guard.announced).toBe(16_385);
  });

  it('reports a Remaining Length longer than four bytes as malformed', () => {
    const guard = new FrameGuard(Number.MAX_SAFE_INTEGER);
    expect(guard.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(false);
    expect(guard.announced).toBe(-1);
  });

  it('applies a changed ceiling from the next packet header on', () => {
    const guard = new FrameGuard(100);
    const big = packet(1000);
    expect(guard.push(packet(100))).toBe(true);
    guard.maxBytes = 1000; // raised while no header is pending
    expect(guard.push(big)).toBe(true);
    // a packet whose header was read before the ceiling came down keeps its verdict
    expect(guard.push(big.subarray(0, 10))).toBe(true);
    guard.maxBytes = 100;
    expect(guard.push(big.subarray(10))).toBe(true);
    expect(guard.push(packet(101))).toBe(false);
    expect(guard.announced).toBe(101);
  });
});
