import { describe, expect, it } from 'vitest';
import { deviceTopics, isAlertTopic, isCommandTopic, parseDeviceTopic } from '../../broker/topics.js';

describe('topics', () => {
  it('parses exactly devices/{id}/readings|status', () => {
    expect(parseDeviceTopic('devices/SH-1/readings')).toEqual({ deviceId: 'SH-1', channel: 'readings' });
    expect(parseDeviceTopic('devices/SH-1/status')).toEqual({ deviceId: 'SH-1', channel: 'status' });
    for (const t of ['devices//readings', 'devices/SH-1/commands', 'devices/SH-1/readings/x', 'device/SH-1/readings', 'xdevices/SH-1/readings', 'devices/SH-1']) {
      expect(parseDeviceTopic(t)).toBeNull();
    }
  });

  it('builds a device’s own topics and recognises service topics', () => {
    expect(deviceTopics('D1')).toEqual({ readings: 'devices/D1/readings', status: 'devices/D1/status', commands: 'devices/D1/commands' });
    expect(isCommandTopic('devices/D1/commands')).toBe(true);
    expect(isCommandTopic('devices//commands')).toBe(false);
    expect(isCommandTopic('devices/D1/x/commands')).toBe(false);
    expect(isAlertTopic('alerts/SH/drift')).toBe(true);
    expect(isAlertTopic('alertsx')).toBe(false);
  });
});
