import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExternalSource, type ExternalSource } from '../../broker/external.js';
import { connect, RecordingSink, registryWithDevices } from './fixture.js';
import { shouldRun, startMosquitto, until, type Mosquitto } from './processes.js';

const seqs = (sink: RecordingSink) => sink.got.map((r) => (JSON.parse(r.payload.toString()) as { seq: number }).seq);

/** The consumer of an operator-run broker, against a real Mosquitto. */
describe.runIf(shouldRun('mosquitto'))('external source over Mosquitto', () => {
  let mosq: Mosquitto;
  let publisher: MqttClient;
  let source: ExternalSource;
  let sink: RecordingSink;
  const { registry, a, b } = registryWithDevices();

  const newSource = () =>
    createExternalSource({
      url: `mqtt://127.0.0.1:${mosq.port}`,
      clientId: 'driftwatch-ingest-test',
      getDevice: (id) => registry.getDevice(id),
      ingest: sink,
      reconnectPeriodMs: 100,
    });
  const publish = (topic: string, body: object) => publisher.publishAsync(topic, JSON.stringify(body), { qos: 1 });

  beforeAll(async () => {
    mosq = await startMosquitto();
    publisher = await connect(mosq.port, { clientId: 'field-gateway' });
  });
  afterAll(async () => {
    publisher.end(true);
    await mosq.stop();
  });
  beforeEach(async () => {
    sink = new RecordingSink();
    source = newSource();
    await source.start();
  });
  afterEach(() => source.close());

  it('hands device messages to ingest', async () => {
    await publish(`devices/${a.id}/readings`, { seq: 1 });
    await publish(`devices/${a.id}/status`, { seq: 2 });
    await until(() => sink.got.length === 2, 5000, 'two messages');
    expect(sink.got.map((r) => [r.deviceId, r.channel])).toEqual([[a.id, 'readings'], [a.id, 'status']]);
    expect(source.stats()).toMatchObject({ connected: true, received: { readings: 1, status: 1 }, unknownDevice: 0 });
  });

  it('acknowledges and counts messages of unknown or inactive devices without ingesting them', async () => {
    registry.setDeviceStatus(b.id, 'suspended');
    await publish('devices/NO-SUCH-DEVICE/readings', { seq: 1 });
    await publish(`devices/${b.id}/readings`, { seq: 1 });
    await until(() => source.stats().unknownDevice === 2, 5000, 'unknownDevice count');
    await publish(`devices/${a.id}/readings`, { seq: 3 });
    await until(() => sink.got.length === 1, 5000, 'the known device');
    expect(sink.calls).toBe(1);
    // acknowledged: a new session of the same consumer does not get them again
    await source.close();
    source = newSource();
    await source.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(source.stats().unknownDevice).toBe(0);
  });

  it('does not acknowledge a message ingest failed on, and gets it again', async () => {
    sink.failNext = 1;
    await publish(`devices/${a.id}/readings`, { seq: 10 });
    await until(() => sink.got.length === 1, 5000, 'redelivery');
    expect(seqs(sink)).toEqual([10]);
    expect(sink.calls).toBe(2);
    expect(source.stats().ingestFailures).toBe(1);
  });

  it('keeps a persistent session: messages sent while it is away arrive when it returns', async () => {
    await source.close();
    await publish(`devices/${a.id}/readings`, { seq: 20 });
    await publish(`devices/${a.id}/readings`, { seq: 21 });
    source = newSource();
    await source.start();
    await until(() => sink.got.length === 2, 5000, 'queued messages');
    expect(seqs(sink)).toEqual([20, 21]);
  });

  it('rejects start() when the broker cannot be reached', async () => {
    const s = createExternalSource({ url: 'mqtt://127.0.0.1:1', clientId: 'x', getDevice: () => null, ingest: sink });
    await expect(s.start()).rejects.toBeDefined();
    await s.close();
  });
});
