import type { ErrorSpec } from '../../lib/errors.js';
import { RegistryErrors } from '../../registry/errors.js';
import { CsvImportErrors } from '../../registry/csv-import.js';
import { IngestErrors } from '../../ingest/errors.js';
import { BrokerErrors } from '../../broker/errors.js';
import { DashboardErrors } from '../../dashboard/errors.js';
import { SimErrors } from '../../devices-sim/errors.js';
import { StationErrors } from '../../analytics/estimate/station/errors.js';
import { SamplingErrors } from '../../analytics/sampling/errors.js';
import { InfluxErrors } from '../../ingest/store/influx/errors.js';

/** Every error table of the project, by the part that owns it. */
export const ERROR_TABLES: Record<string, Record<string, ErrorSpec>> = {
  registry: { ...RegistryErrors.codes, ...CsvImportErrors.codes },
  ingest: IngestErrors.codes,
  'ingest/store/influx': InfluxErrors.codes,
  broker: BrokerErrors.codes,
  dashboard: DashboardErrors.codes,
  'devices-sim': SimErrors.codes,
  analytics: StationErrors.codes,
  sampling: SamplingErrors.codes,
};
