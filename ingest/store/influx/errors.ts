import { errorTable } from '../../../lib/errors.js';

/**
 * The InfluxDB store's codes. INFLUX_OUTBOX_FULL makes append() reject, so ingest withholds the
 * PUBACK and the device keeps the reading; the others describe why the sink is not delivering.
 */
export const InfluxErrors = errorTable({
  INFLUX_OUTBOX_FULL: { message: 'the InfluxDB outbox reached its disk limit; readings are not accepted until it drains', status: 503 },
  INFLUX_STORE_CLOSED: { message: 'the InfluxDB store is closed', status: 503 },
  INFLUX_AUTH_FAILED: { message: 'InfluxDB refused the credentials; the sink stopped and keeps everything queued', status: 502 },
  INFLUX_LINE_REJECTED: { message: 'InfluxDB rejected a line; it was moved out of the outbox', status: 502 },
  INFLUX_QUERY_FAILED: { message: 'an InfluxQL query failed', status: 502 },
  INFLUX_UNAVAILABLE: { message: 'InfluxDB is unreachable or overloaded; the sink backs off and retries', status: 503 },
});

export type InfluxErrorCode = keyof typeof InfluxErrors.codes;
