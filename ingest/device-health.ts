/** What ingest knows about one device beyond its readings: its clock and its last status. */
export interface DeviceHealth {
  deviceId: string;
  /** ms, platform receive time of the last reading that passed the schema */
  lastReceivedAt: number | null;
  /** ms, receivedAt − ts of that reading: negative when the device clock runs ahead */
  lastSkewMs: number | null;
  /** readings rejected because their ts lay in the future: the device's clock needs setting */
  futureTs: number;
  /** the last status object the device published */
  status: Readonly<Record<string, unknown>> | null;
  /** ms, when that status arrived */
  statusAt: number | null;
}

/** Fixed-shape per-device state, kept in a Map by id (one allocation per device, not per message). */
export class DeviceState {
  readonly deviceId: string;
  lastReceivedAt: number | null = null;
  lastSkewMs: number | null = null;
  futureTs = 0;
  status: Readonly<Record<string, unknown>> | null = null;
  statusAt: number | null = null;

  constructor(deviceId: string) {
    this.deviceId = deviceId;
  }

  sawTs(ts: number, receivedAt: number, future: boolean): void {
    this.lastReceivedAt = receivedAt;
    this.lastSkewMs = receivedAt - ts;
    if (future) this.futureTs++;
  }

  snapshot(): DeviceHealth {
    return {
      deviceId: this.deviceId,
      lastReceivedAt: this.lastReceivedAt,
      lastSkewMs: this.lastSkewMs,
      futureTs: this.futureTs,
      status: this.status,
      statusAt: this.statusAt,
    };
  }
}
