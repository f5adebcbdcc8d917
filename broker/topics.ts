/**
 * The topic tree. Devices publish under `devices/{id}/`, receive commands there, and internal
 * services publish alerts under `alerts/`. Device ids cannot contain `/`, `+` or `#`
 * (registry/schema.ts DEVICE_ID), so `devices/{id}/…` always has exactly three levels.
 */

export type Channel = 'readings' | 'status';

export const READINGS_FILTER = 'devices/+/readings';
export const STATUS_FILTER = 'devices/+/status';

/** A device's own topics, built once when it connects rather than per message. */
export interface DeviceTopics {
  readonly readings: string;
  readonly status: string;
  readonly commands: string;
}

export function deviceTopics(id: string): DeviceTopics {
  return { readings: `devices/${id}/readings`, status: `devices/${id}/status`, commands: `devices/${id}/commands` };
}

/** `devices/{id}/readings|status` → its parts; anything else → null. */
export function parseDeviceTopic(topic: string): { deviceId: string; channel: Channel } | null {
  const first = topic.indexOf('/');
  const second = topic.indexOf('/', first + 1);
  if (first !== 7 || !topic.startsWith('devices/') || second <= first + 1 || topic.indexOf('/', second + 1) !== -1) return null;
  const rest = topic.slice(second + 1);
  if (rest !== 'readings' && rest !== 'status') return null;
  return { deviceId: topic.slice(first + 1, second), channel: rest };
}

/** True for `devices/{anything}/commands`: the service side of the command channel. */
export function isCommandTopic(topic: string): boolean {
  return topic.startsWith('devices/') && topic.endsWith('/commands') && topic.split('/').length === 3 && topic.length > 'devices//commands'.length;
}

/** True for `alerts` and anything below it. */
export function isAlertTopic(topic: string): boolean {
  return topic === 'alerts' || topic.startsWith('alerts/');
}
