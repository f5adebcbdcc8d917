import { describe, expect, it } from 'vitest';
import { BrokerErrors, ConnectRefusal, MQTT_OUTCOME } from '../../broker/errors.js';
import { DriftwatchError } from '../../lib/errors.js';

describe('broker errors', () => {
  it('names every code BRK_* and states its MQTT outcome', () => {
    const codes = Object.keys(BrokerErrors.codes);
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) {
      expect(code).toMatch(/^BRK_[A-Z_]+$/);
      expect(MQTT_OUTCOME[code as keyof typeof MQTT_OUTCOME]).toBeTruthy();
    }
    expect(Object.keys(MQTT_OUTCOME).sort()).toEqual([...codes].sort());
  });

  it('makes CONNECT refusals that carry their CONNACK code for aedes', () => {
    const e = new ConnectRefusal('BRK_AUTH_FAILED', 4, 'D1');
    expect(e).toBeInstanceOf(DriftwatchError);
    expect(e).toMatchObject({ code: 'BRK_AUTH_FAILED', status: 401, returnCode: 4 });
    expect(e.message).toContain('D1');
  });
});
