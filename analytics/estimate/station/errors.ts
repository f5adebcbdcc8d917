import { errorTable } from '../../../lib/errors.js';

/** The station estimator's codes: thrown only at construction, never on the hot path. */
export const StationErrors = errorTable({
  ANA_STATION_OPTIONS_INVALID: { message: 'station estimator options are out of range', status: 500 },
});
