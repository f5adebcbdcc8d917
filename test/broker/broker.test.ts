import { connect as tcpConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { createBroker, type Broker, type BrokerLimits } from '../../broker/broker.js';
import type { Registry } from '../../registry/registry.js';
import { closedWithin, connect, fixedHeader, RecordingSink, registryWithDevices, sleep } from './fixture.js';

const SERVICE = { username: 'driftwatch-service', secret: 'service-secret-0123456789' };

let registry: Registry;
let a: { id: string; secret: string };
let b: { id: string; secret: string };
let sink: RecordingSink;
let broker: Broker;
let port: number;
const clock = new ManualClock(1_700_000_000_000);
const clients: MqttClient[] = [];

/** log lines the broker writes at warn and above */
let warnings: Array<{ code?: string; msg: string; [k: string]: unknown }> = [];

async function start(limits: Partial<BrokerLimits> = {}): Promise<void> {
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as (typeof warnings)[number]) });
  broker = createBroker({ registry, ingest: sink, serviceAccounts: [SERVICE], clock, limits, logger });
  ({ port } = await broker.listen(0, '127.0.0.1'));
}

async function device(d: { id: string; secret: string }): Promise<MqttClient> {
  const c = await connect(port, { clientId: d.id, username: d.id, password: d.secret });
  clients.push(c);
  return c;
}

function publish(c: MqttClient, topic: string, payload: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

/** A TCP connection to the broker that speaks no MQTT until the test writes bytes to it. */
async function raw(localAddress?: string): Promise<Socket> {
  const s = tcpConnect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  s.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

function rawClosedWithin(s: Socket, ms: number): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve('closed');
    const t = setTimeout(() => resolve('open'), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
  });
}


const mqttString = (x: string): Buffer => {
  const b = Buffer.from(x, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** A QoS 2 PUBLISH (MQTT 3.1.1, 3.3) as bytes, to write on a connection behind its client's back. */
function qos2Publish(topic: string, messageId: number, payload: Buffer): Buffer {
  const body = Buffer.concat([mqttString(topic), Buffer.from([messageId >> 8, messageId & 0xff]), payload]);
  return Buffer.concat([fixedHeader(0x34, body.length), body]);
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

beforeEach(() => {
  ({ registry, a, b } = registryWithDevices());
  sink = new RecordingSink();
  warnings = [];
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await broker.close();
});

describe('authentication', () => {
  beforeEach(() => start());

  it('connects a device with its id and secret', async () => {
    const c = await device(a);
    expect(c.connected).toBe(true);
    expect(broker.stats().connections).toBe(1);
    expect(broker.stats().connectsRefused).toBe(0);
  });

  it('refuses a wrong secret and an unknown id with CONNACK 4', async () => {
    await expect(connect(port, { clientId: a.id, username: a.id, password: b.secret })).rejects.toMatchObject({ code: 4 });
    await expect(connect(port, { clientId: 'SH-A001-M999', username: 'SH-A001-M999', password: a.secret })).rejects.toMatchObject({ code: 4 });
    await expect(connect(port, { clientId: a.id })).rejects.toMatchObject({ code: 4 });
    expect(broker.stats().connectsRefused).toBe(3);
  });

  it('refuses a device whose client id is not its device id with CONNACK 2', async () => {
    await expect(connect(port, { clientId: b.id, username: a.id, password: a.secret })).rejects.toMatchObject({ code: 2 });
    await expect(connect(port, { clientId: 'mqttjs_1234', username: a.id, password: a.secret })).rejects.toMatchObject({ code: 2 });
  });

  it('refuses a suspended device', async () => {
    registry.setDeviceStatus(a.id, 'suspended');
    await expect(connect(port, { clientId: a.id, username: a.id, password: a.secret })).rejects.toMatchObject({ code: 4 });
  });

  it('disconnects a device that is suspended while connected, and refuses it until reactivated', async () => {
    const c = await device(a);
    const other = await device(b);
    registry.setDeviceStatus(a.id, 'suspended');
    expect(await closedWithin(c, 2000)).toBe('closed');
    expect(await closedWithin(other, 200)).toBe('open');
    await expect(connect(port, { clientId: a.id, username: a.id, password: a.secret })).rejects.toMatchObject({ code: 4 });
    registry.setDeviceStatus(a.id, 'active');
    clients.push(await connect(port, { clientId: a.id, username: a.id, password: a.secret }));
  });

  it('publishes no will of a device suspended or given a new secret while connected, to ingest or to subscribers', async () => {
    const s = await connect(port, { clientId: SERVICE.username, username: SERVICE.username, password: SERVICE.secret });
    clients.push(s);
    await s.subscribeAsync(['devices/+/readings', 'devices/+/status'], { qos: 1 });
    const heard: string[] = [];
    s.on('message', (topic) => heard.push(topic));
    const will = (id: string) => ({ topic: `devices/${id}/readings`, payload: Buffer.from('{"chosen":"after withdrawal"}'), qos: 1 as const, retain: false });
    const ca = await connect(port, { clientId: a.id, username: a.id, password: a.secret, will: will(a.id) });
    const cb = await connect(port, { clientId: b.id, username: b.id, password: b.secret, will: will(b.id) });
    clients.push(ca, cb);
    registry.setDeviceStatus(a.id, 'suspended');
    registry.rotateDeviceSecret(b.id);
    expect(await closedWithin(ca, 2000)).toBe('closed');
    expect(await closedWithin(cb, 2000)).toBe('closed');
    await sleep(300);
    expect(sink.calls).toBe(0);
    expect(heard).toEqual([]);
    expect(broker.stats()).toMatchObject({ revokedPublish: 2, deniedPublish: 0 });
    // a device that merely loses its connection still has its will published
    registry.setDeviceStatus(a.id, 'active');
    const again = await connect(port, { clientId: a.id, username: a.id, password: a.secret, will: will(a.id) });
    again.stream.destroy();
    await until(() => sink.got.length === 1 && heard.length === 1);
    expect(sink.got[0]?.payload.toString()).toBe('{"chosen":"after withdrawal"}');
  });

  it('refuses or closes a device suspended while its CONNECT is being authenticated', async () => {
    const orig = registry.authenticateDevice.bind(registry);
    // the suspension lands during the secret check: the CONNECT is refused
    registry.authenticateDevice = async (id: string, s: string) => {
      const p = orig(id, s);
      if (id === a.id) registry.setDeviceStatus(id, 'suspended');
      return p;
    };
    await expect(connect(port, { clientId: a.id, username: a.id, password: a.secret })).rejects.toMatchObject({ code: 4 });
    // it lands after the check, before the broker has registered the client: closed as it arrives
    registry.setDeviceStatus(a.id, 'active');
    registry.authenticateDevice = async (id: string, s: string) => {
      const d = await orig(id, s);
      if (id === b.id) registry.setDeviceStatus(id, 'suspended');
      return d;
    };
    // refused at CONNACK or closed right after it: either way not left connected
    const c = await connect(port, { clientId: b.id, username: b.id, password: b.secret }).catch(() => null);
    expect(c === null ? 'refused' : await closedWithin(c, 2000)).toMatch(/^(refused|closed)$/);
  });

  it('answers CONNACK 3 beyond the concurrent secret checks, and lets the device in once they are done', async () => {
    await broker.close();
    await start({ maxConcurrentAuth: 1 });
    const orig = registry.authenticateDevice.bind(registry);
    registry.authenticateDevice = async (id: string, s: string) => {
      await sleep(300);
      return orig(id, s);
    };
    const [first, second] = await Promise.allSettled([
      connect(port, { clientId: a.id, username: a.id, password: a.secret }),
      (async () => {
        await sleep(50);
        return connect(port, { clientId: b.id, username: b.id, password: b.secret });
      })(),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 3 } });
    if (first.status === 'fulfilled') clients.push(first.value);
    clients.push(await connect(port, { clientId: b.id, username: b.id, password: b.secret }));
  });

  it('disconnects a device whose secret is rotated; the old secret no longer connects, the new one does', async () => {
    const c = await device(a);
    const secret = registry.rotateDeviceSecret(a.id);
    expect(await closedWithin(c, 2000)).toBe('closed');
    await expect(connect(port, { clientId: a.id, username: a.id, password: a.secret })).rejects.toMatchObject({ code: 4 });
    clients.push(await connect(port, { clientId: a.id, username: a.id, password: secret }));
  });

  it('authenticates service accounts by secret and binds their client ids to the account name', async () => {
    const s = await connect(port, { clientId: `${SERVICE.username}-alerts`, username: SERVICE.username, password: SERVICE.secret });
    clients.push(s);
    await expect(connect(port, { clientId: SERVICE.username, username: SERVICE.username, password: 'wrong' })).rejects.toMatchObject({ code: 4 });
    // a service may not take a device's client id (and with it the device's session)
    await expect(connect(port, { clientId: a.id, username: SERVICE.username, password: SERVICE.secret })).rejects.toMatchObject({ code: 2 });
  });
});

describe('failed-login throttle', () => {
  const fronts: Server[] = [];
  // not awaited: a front finishes closing once its connections end, which broker.close() does after
  afterEach(() => {
    for (const f of fronts.splice(0)) f.close();
  });

  /** A listener that hands its connections to the broker as coming from `address` (a field address, not loopback). */
  async function listenAs(address: string): Promise<number> {
    const front = createServer((socket) => broker.handle(socket, address));
    fronts.push(front);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    return (front.address() as AddressInfo).port;
  }

  const service = (p: number, password: string, suffix = 'live') =>
    connect(p, { clientId: `${SERVICE.username}-${suffix}`, username: SERVICE.username, password });

  it('refuses every CONNECT from an address after too many failed service logins, unchecked, until its window ends', async () => {
    await start({ maxAuthFailures: 3, authFailureWindowMs: 1000 });
    const from = await listenAs('192.0.2.7');
    const elsewhere = await listenAs('198.51.100.9');
    // a client with the right password is never counted, however often it connects
    for (let i = 0; i < 5; i++) (await service(from, SERVICE.secret)).end(true);
    for (let i = 0; i < 3; i++) await expect(service(from, `guess-${i}`)).rejects.toMatchObject({ code: 4 });
    let checks = 0;
    const orig = registry.authenticateDevice.bind(registry);
    registry.authenticateDevice = (id: string, secret: string) => {
      checks++;
      return orig(id, secret);
    };
    // blocked: the right password, another guess and a device alike, with nothing checked
    await expect(service(from, SERVICE.secret)).rejects.toMatchObject({ code: 5 });
    await expect(service(from, 'guess-3')).rejects.toMatchObject({ code: 5 });
    await expect(connect(from, { clientId: a.id, username: a.id, password: a.secret })).rejects.toMatchObject({ code: 5 });
    expect(checks).toBe(0);
    // other addresses are not affected
    clients.push(await service(elsewhere, SERVICE.secret, 'elsewhere'));
    clients.push(await connect(elsewhere, { clientId: a.id, username: a.id, password: a.secret }));
    expect(broker.stats()).toMatchObject({ authThrottled: 3, connectsRefused: 6 });
    // the window began at the first failure; once it has ended the address is checked again
    await sleep(1000);
    clients.push(await service(from, SERVICE.secret));
  });

  it('on loopback refuses only the username that failed, so the devices connecting from there keep connecting', async () => {
    await start({ maxAuthFailures: 3, authFailureWindowMs: 60_000 });
    for (let i = 0; i < 3; i++) await expect(service(port, `guess-${i}`)).rejects.toMatchObject({ code: 4 });
    await expect(service(port, SERVICE.secret)).rejects.toMatchObject({ code: 5 });
    await device(a);
    await device(b);
    expect(broker.stats()).toMatchObject({ authThrottled: 1, connections: 2 });
  });

  it('does not count failed device logins: a device that keeps its old secret locks out nobody behind its address', async () => {
    await start({ maxAuthFailures: 3, authFailureWindowMs: 60_000 });
    const from = await listenAs('192.0.2.7');
    const stale = a.secret;
    registry.rotateDeviceSecret(a.id);
    for (let i = 0; i < 6; i++) await expect(connect(from, { clientId: a.id, username: a.id, password: stale })).rejects.toMatchObject({ code: 4 });
    clients.push(await connect(from, { clientId: b.id, username: b.id, password: b.secret }));
    clients.push(await service(from, SERVICE.secret));
    expect(broker.stats().authThrottled).toBe(0);
  });

  it('is on by default, and off with maxAuthFailures 0', async () => {
    await start({ maxAuthFailures: 0 });
    for (let i = 0; i < 20; i++) await expect(service(port, `guess-${i}`)).rejects.toMatchObject({ code: 4 });
    clients.push(await service(port, SERVICE.secret));
    await broker.close();
    await start();
    for (let i = 0; i < 10; i++) await expect(service(port, `guess-${i}`)).rejects.toMatchObject({ code: 4 });
    await expect(service(port, SERVICE.secret)).rejects.toMatchObject({ code: 5 });
  });
});

describe('publishing', () => {
  beforeEach(() => start());

  it('hands a reading to ingest and sends PUBACK only after ingest resolved', async () => {
    sink.delayMs = 200;
    const c = await device(a);
    const body = JSON.stringify({ ts: 1, seq: 1, energyWh: 10, powerW: 5 });
    const t0 = Date.now();
    await publish(c, `devices/${a.id}/readings`, body);
    const acked = Date.now();
    expect(sink.got).toHaveLength(1);
    const got = sink.got[0]!;
    expect(got).toMatchObject({ deviceId: a.id, channel: 'readings', topic: `devices/${a.id}/readings`, receivedAt: clock.now() });
    expect(got.payload.toString()).toBe(body);
    expect(acked - t0).toBeGreaterThanOrEqual(190);
    expect(acked).toBeGreaterThanOrEqual(got.resolvedAt);
    await publish(c, `devices/${a.id}/status`, '{"online":true}');
    expect(broker.stats().published).toEqual({ readings: 1, status: 1 });
  });

  it('ingests a burst of pipelined readings completely and in order', async () => {
    const c = await device(a);
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => publish(c, `devices/${a.id}/readings`, JSON.stringify({ seq: i }))));
    expect(sink.got.map((r) => (JSON.parse(r.payload.toString()) as { seq: number }).seq)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(broker.stats().published.readings).toBe(n);
  });

  it('closes the connection of a device publishing to another device topic, and ingests nothing', async () => {
    const c = await device(a);
    const closed = closedWithin(c, 2000);
    c.publish(`devices/${b.id}/readings`, '{}', { qos: 1 });
    expect(await closed).toBe('closed');
    expect(sink.calls).toBe(0);
    expect(broker.stats().deniedPublish).toBe(1);
  });

  it('denies topics outside the device tree and the service-only topics', async () => {
    for (const topic of ['alerts/x', `devices/${a.id}/commands`, `devices/${a.id}/readings/extra`]) {
      const c = await device(a);
      const closed = closedWithin(c, 2000);
      c.publish(topic, '{}', { qos: 1 });
      expect(await closed).toBe('closed');
    }
    expect(broker.stats().deniedPublish).toBe(3);
    expect(sink.calls).toBe(0);
  });

  it('hands an oversized payload to ingest anyway and keeps the connection', async () => {
    const c = await device(a);
    const big = Buffer.alloc(20 * 1024, 0x61);
    await publish(c, `devices/${a.id}/readings`, big);
    expect(sink.got[0]?.payload.length).toBe(big.length);
    expect(broker.stats().oversizePayloads).toBe(1);
    expect(c.connected).toBe(true);
  });

  it('drops a connection announcing a packet over the hard ceiling before buffering it', async () => {
    const c = await device(a);
    const closed = closedWithin(c, 3000);
    // the ceiling after authentication: 64 KiB
    c.publish(`devices/${a.id}/readings`, Buffer.alloc(64 * 1024, 0x61), { qos: 1 });
    expect(await closed).toBe('closed');
    expect(sink.calls).toBe(0);
    expect(broker.stats().oversizeDropped).toBe(1);
  });

  it('withholds PUBACK and closes the connection when ingest fails', async () => {
    sink.failNext = 1;
    const c = await device(a);
    let acked = false;
    const closed = closedWithin(c, 2000);
    c.publish(`devices/${a.id}/readings`, '{"seq":1}', { qos: 1 }, () => (acked = true));
    expect(await closed).toBe('closed');
    await sleep(300);
    expect(acked).toBe(false);
    expect(sink.got).toHaveLength(0);
    expect(broker.stats().ingestFailures).toBe(1);
    // the device resends after reconnecting, and this time it is acknowledged
    const again = await device(a);
    await publish(again, `devices/${a.id}/readings`, '{"seq":1}');
    expect(sink.got).toHaveLength(1);
  });

  it('ingests a device will on its status topic and denies one elsewhere', async () => {
    const good = await connect(port, { clientId: a.id, username: a.id, password: a.secret, will: { topic: `devices/${a.id}/status`, payload: Buffer.from('{"online":false}'), qos: 1, retain: false } });
    const bad = await connect(port, { clientId: b.id, username: b.id, password: b.secret, will: { topic: `devices/${a.id}/status`, payload: Buffer.from('{"online":false}'), qos: 1, retain: false } });
    // an abrupt end of the transport, not a DISCONNECT, makes the broker publish the will (MQTT 3.1.1, 3.1.2.5)
    good.stream.destroy();
    bad.stream.destroy();
    await sleep(200);
    expect(sink.got.map((r) => [r.deviceId, r.channel, r.payload.toString()])).toEqual([[a.id, 'status', '{"online":false}']]);
    expect(broker.stats().deniedPublish).toBe(1);
  });

  it('does not retain device messages', async () => {
    const c = await device(a);
    await new Promise<void>((resolve, reject) => c.publish(`devices/${a.id}/status`, '{"online":true}', { qos: 1, retain: true }, (e) => (e ? reject(e) : resolve())));
    expect(sink.got).toHaveLength(1);
    const s = await connect(port, { clientId: SERVICE.username, username: SERVICE.username, password: SERVICE.secret });
    clients.push(s);
    let retained = 0;
    s.on('message', () => retained++);
    await s.subscribeAsync(`devices/${a.id}/status`, { qos: 1 });
    await sleep(200);
    expect(retained).toBe(0);
  });

  it('lets a service subscribe to every device reading and publish alerts, but not readings', async () => {
    const s = await connect(port, { clientId: SERVICE.username, username: SERVICE.username, password: SERVICE.secret });
    clients.push(s);
    const granted = await s.subscribeAsync('devices/+/readings', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const seen = new Promise<string>((resolve) => s.once('message', (topic) => resolve(topic)));
    const c = await device(a);
    await publish(c, `devices/${a.id}/readings`, '{"seq":2}');
    expect(await seen).toBe(`devices/${a.id}/readings`);
    await s.publishAsync('alerts/SH/drift', '{}', { qos: 1 });
    await s.publishAsync(`devices/${a.id}/commands`, '{"cmd":"selftest"}', { qos: 1 });
    const closed = closedWithin(s, 2000);
    s.publish(`devices/${a.id}/readings`, '{}', { qos: 1 });
    expect(await closed).toBe('closed');
    expect(sink.calls).toBe(1);
  });
});

describe('subscribing', () => {
  beforeEach(() => start());

  it('grants a device its own commands topic only', async () => {
    const c = await device(a);
    const filters = [`devices/${a.id}/commands`, `devices/${b.id}/commands`, 'devices/+/commands', '#'];
    // mqtt.js reports any 0x80 as an error; the SUBACK codes themselves come with it
    const granted = await new Promise<number[]>((resolve) =>
      c.subscribe(filters, { qos: 1 }, (_err, _subs, suback) => resolve(suback?.granted.map(Number) ?? [])),
    );
    expect(granted).toEqual([1, 128, 128, 128]);
    expect(broker.stats().deniedSubscribe).toBe(3);
    expect(c.connected).toBe(true);
  });

  /** Subscribes and resolves to the SUBACK's codes, or to 'closed' when the connection closes instead. */
  function subscribe(c: MqttClient, filters: string[]): Promise<number[] | 'closed'> {
    return new Promise((resolve) => {
      c.stream.once('close', () => resolve('closed'));
      c.subscribe(filters, { qos: 1 }, (_err, _subs, suback) => resolve(suback?.granted.map(Number) ?? 'closed'));
    });
  }

  it('logs a connection its denied filters once, with their count, and stays connected below the limit', async () => {
    const c = await device(a);
    expect(await subscribe(c, [`devices/${a.id}/commands`, 'x/1', 'x/2'])).toEqual([1, 128, 128]);
    expect(await subscribe(c, ['x/3', 'x/4'])).toEqual([128, 128]);
    await sleep(50);
    const denied = warnings.filter((w) => w.code === 'BRK_SUBSCRIBE_DENIED');
    expect(denied).toEqual([expect.objectContaining({ deviceId: a.id, topic: 'x/1', count: 2, closed: false })]);
    expect(broker.stats().deniedSubscribe).toBe(4);
    expect(c.connected).toBe(true);
    // a device that behaves is not touched: it still gets its commands
    const s = await connect(port, { clientId: SERVICE.username, username: SERVICE.username, password: SERVICE.secret });
    clients.push(s);
    const got = new Promise<string>((resolve) => c.once('message', (topic) => resolve(topic)));
    await s.publishAsync(`devices/${a.id}/commands`, '{"cmd":"selftest"}', { qos: 1 });
    expect(await got).toBe(`devices/${a.id}/commands`);
  });

  it('closes a connection at 10 denied filters, without a SUBACK, and writes one log line for thousands of them', async () => {
    const c = await device(a);
    const closed = closedWithin(c, 2000);
    expect(await subscribe(c, Array.from({ length: 5000 }, (_, i) => `x/${i}`))).toBe('closed');
    expect(await closed).toBe('closed');
    await sleep(50);
    expect(warnings.filter((w) => w.code === 'BRK_SUBSCRIBE_DENIED')).toEqual([expect.objectContaining({ deviceId: a.id, topic: 'x/0', closed: true })]);
    expect(warnings).toHaveLength(1);
    // across SUBSCRIBE packets too: the tenth denial closes the connection, still with one line
    warnings = [];
    const again = await device(a);
    for (let i = 0; i < 3; i++) expect(await subscribe(again, [`y/${i}a`, `y/${i}b`, `y/${i}c`])).toEqual([128, 128, 128]);
    expect(await subscribe(again, ['y/3a'])).toBe('closed');
    await sleep(50);
    expect(warnings).toEqual([expect.objectContaining({ code: 'BRK_SUBSCRIBE_DENIED', count: 3, closed: false })]);
    // and it connects again like any device
    clients.push(await connect(port, { clientId: a.id, username: a.id, password: a.secret }));
  });
});

describe('QoS 2', () => {
  it('refuses a device QoS 2 PUBLISH: the connection closes, nothing is ingested or acknowledged', async () => {
    await start();
    const c = await device(a);
    let answered = false;
    const closed = closedWithin(c, 2000);
    c.publish(`devices/${a.id}/readings`, '{"seq":1}', { qos: 2 }, () => (answered = true));
    expect(await closed).toBe('closed');
    await sleep(100);
    expect(answered).toBe(false);
    expect(sink.calls).toBe(0);
    expect(broker.stats()).toMatchObject({ qos2Refused: 1, deniedPublish: 0 });
    // QoS 0 and 1 go through as before
    const again = await device(a);
    await publish(again, `devices/${a.id}/readings`, '{"seq":1}');
    await again.publishAsync(`devices/${a.id}/status`, '{"online":true}', { qos: 0 });
    await until(() => sink.got.length === 2);
  });

  it('still ingests a device will of QoS 2: the broker publishes it itself, nothing awaits a PUBREL', async () => {
    await start();
    const c = await connect(port, { clientId: a.id, username: a.id, password: a.secret, will: { topic: `devices/${a.id}/status`, payload: Buffer.from('{"online":false}'), qos: 2, retain: false } });
    c.stream.destroy();
    await until(() => sink.got.length === 1);
    expect(sink.got[0]?.channel).toBe('status');
    expect(broker.stats().qos2Refused).toBe(0);
  });

  it('lets no device pile up QoS 2 messages awaiting PUBREL, even across reconnects of a persistent session', async () => {
    await start({ maxPacketBytes: 256 * 1024 });
    // the reported attack: QoS 2 PUBLISHes of 250 KiB whose PUBREL never comes (mqtt.js ignores
    // the PUBREC of a message id it did not send, so it sends no PUBREL)
    for (let round = 0; round < 3; round++) {
      const c = await connect(port, { clientId: a.id, username: a.id, password: a.secret, clean: false });
      clients.push(c);
      const closed = closedWithin(c, 2000);
      for (let id = 1; id <= 4; id++) c.stream.write(qos2Publish(`devices/${a.id}/readings`, round * 4 + id, Buffer.alloc(250 * 1024, 0x61)));
      expect(await closed).toBe('closed');
    }
    expect(sink.calls).toBe(0);
    expect(broker.stats().qos2Refused).toBeGreaterThanOrEqual(3);
  });

  it('bounds the QoS 2 messages a service account leaves awaiting PUBREL, and lets it use QoS 2 normally', async () => {
    await start({ maxInflightQos2: 2 });
    const s = await connect(port, { clientId: SERVICE.username, username: SERVICE.username, password: SERVICE.secret });
    clients.push(s);
    // with PUBREL: any number, each completing before the next
    for (let i = 0; i < 5; i++) await s.publishAsync('alerts/SH/drift', `{"n":${i}}`, { qos: 2 });
    expect(s.connected).toBe(true);
    // without PUBREL: two are held, the third closes the connection
    const closed = closedWithin(s, 2000);
    s.stream.write(qos2Publish('alerts/SH/drift', 60_001, Buffer.from('{}')));
    s.stream.write(qos2Publish('alerts/SH/drift', 60_002, Buffer.from('{}')));
    expect(await closedWithin(s, 300)).toBe('open');
    s.stream.write(qos2Publish('alerts/SH/drift', 60_003, Buffer.from('{}')));
    expect(await closed).toBe('closed');
  });
});

describe('limits before authentication', () => {
  beforeEach(() => start());

  it('drops a connection whose CONNECT announces more than the pre-authentication ceiling, at once', async () => {
    // the reported attack: a CONNECT header announcing 255 KiB, its body withheld to the last byte
    const s = await raw();
    const closed = rawClosedWithin(s, 1000);
    s.write(Buffer.concat([fixedHeader(0x10, 255 * 1024), Buffer.alloc(16 * 1024, 0x61)]));
    expect(await closed).toBe('closed');
    // just over the ceiling is as much too large
    const s2 = await raw();
    const closed2 = rawClosedWithin(s2, 1000);
    s2.write(fixedHeader(0x10, 20 * 1024 + 1));
    expect(await closed2).toBe('closed');
    expect(broker.stats().oversizeDropped).toBe(2);
    expect(broker.stats().connections).toBe(0);
  });

  it('accepts a CONNECT carrying a will of a full ingest payload', async () => {
    const will = { topic: `devices/${a.id}/status`, payload: Buffer.alloc(16 * 1024, 0x20), qos: 1 as const, retain: false };
    const c = await connect(port, { clientId: a.id, username: a.id, password: a.secret, will });
    clients.push(c);
    expect(c.connected).toBe(true);
    expect(broker.stats().oversizeDropped).toBe(0);
  });

  it('lets an authenticated device send messages larger than the pre-authentication ceiling', async () => {
    const c = await device(a);
    // the largest message ingest takes: 16 KiB of readings
    const reading = JSON.stringify({ ts: 1, seq: 1, energyWh: 10, powerW: 5 });
    const batch: string[] = [];
    while ((batch.length + 1) * (reading.length + 1) + 1 <= 16 * 1024) batch.push(reading);
    const body = `[${batch.join(',')}]`;
    await publish(c, `devices/${a.id}/readings`, body);
    // and one over the ingest limit and the pre-authentication ceiling: still handed on for quarantine
    await publish(c, `devices/${a.id}/readings`, Buffer.alloc(40 * 1024, 0x61));
    expect(sink.got.map((r) => r.payload.length)).toEqual([body.length, 40 * 1024]);
    expect(broker.stats().oversizeDropped).toBe(0);
    expect(c.connected).toBe(true);
  });
});

describe('limits and lifecycle', () => {
  it('refuses connections over maxConnections', async () => {
    await start({ maxConnections: 1 });
    await device(a);
    await expect(connect(port, { clientId: b.id, username: b.id, password: b.secret })).rejects.toBeDefined();
    expect(broker.stats().connectsRefused).toBe(1);
    expect(broker.stats().connections).toBe(1);
  });

  it('refuses a remote address its connection over maxConnectionsPerAddress, and only that address', async () => {
    await start({ maxConnectionsPerAddress: 3, loopbackExempt: false });
    // connections that never send CONNECT count: they are what the cap is for
    const held = [await raw(), await raw()];
    await device(a);
    await until(() => broker.stats().connections === 3);
    const fourth = await raw();
    expect(await rawClosedWithin(fourth, 1000)).toBe('closed');
    await expect(connect(port, { clientId: b.id, username: b.id, password: b.secret })).rejects.toBeDefined();
    expect(broker.stats()).toMatchObject({ connections: 3, connectsRefused: 2, addressRefused: 2 });
    // another address has its own count (the whole of 127/8 is loopback on Linux; elsewhere it may not be bound)
    const other = await raw('127.0.0.2').catch(() => null);
    if (other) {
      expect(await rawClosedWithin(other, 300)).toBe('open');
      other.destroy();
    }
    // a connection that ends gives its slot back
    held[0]?.destroy();
    await until(() => broker.stats().connections === 2);
    clients.push(await connect(port, { clientId: b.id, username: b.id, password: b.secret }));
    held[1]?.destroy();
  });

  it('does not count loopback against the per-address cap by default (the demo fleet and local tools connect from there)', async () => {
    await start({ maxConnectionsPerAddress: 1 });
    const held = [await raw(), await raw(), await raw()];
    await until(() => broker.stats().connections === 3);
    expect(broker.stats().addressRefused).toBe(0);
    for (const h of held) h.destroy();
  });

  it('closes idempotently, ending connections that never sent CONNECT', async () => {
    await start();
    const raw = tcpConnect(port, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    await sleep(50);
    expect(broker.stats().connections).toBe(1);
    const rawClosed = new Promise((r) => raw.once('close', r));
    const t0 = Date.now();
    await Promise.all([broker.close(), broker.close()]);
    await rawClosed;
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('refuses streams before start', () => {
    broker = createBroker({ registry, ingest: sink });
    const stream = new PassThrough();
    expect(() => broker.handle(stream)).toThrow(expect.objectContaining({ code: 'BRK_NOT_STARTED' }) as Error);
  });
});
