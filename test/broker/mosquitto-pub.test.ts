import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../../broker/broker.js';
import { RecordingSink, registryWithDevices } from './fixture.js';
import { run, shouldRun } from './processes.js';

/** An independent MQTT client implementation (Debian's mosquitto-clients) against the embedded broker. */
describe.runIf(shouldRun('mosquitto_pub'))('embedded broker with mosquitto_pub', () => {
  const { registry, a } = registryWithDevices();
  const sink = new RecordingSink();
  let broker: Broker;
  let port: number;

  beforeAll(async () => {
    broker = createBroker({ registry, ingest: sink });
    ({ port } = await broker.listen(0, '127.0.0.1'));
  });
  afterAll(() => broker.close());

  const pub = (password: string, body: string) =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-i', a.id, '-u', a.id, '-P', password, '-t', `devices/${a.id}/readings`, '-q', '1', '-m', body]);

  it('publishes a reading at QoS 1 with the right secret', async () => {
    const body = JSON.stringify({ ts: 1_700_000_000_000, seq: 7, energyWh: 1234.5, powerW: 300 });
    const { code, output } = await pub(a.secret, body);
    expect(code, output).toBe(0);
    expect(sink.got).toHaveLength(1);
    expect(sink.got[0]?.payload.toString()).toBe(body);
  });

  it('is refused with a wrong secret', async () => {
    const { code } = await pub(`${a.secret}x`, '{}');
    expect(code).not.toBe(0);
    expect(sink.got).toHaveLength(1);
    expect(broker.stats().connectsRefused).toBe(1);
  });
});
