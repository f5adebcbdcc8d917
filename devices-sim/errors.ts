import { errorTable } from '../lib/errors.js';

export const SimErrors = errorTable({
  SIM_SCENARIO_INVALID: { message: 'simulation scenario is invalid', status: 400 },
  SIM_FAULT_TARGETS_EXHAUSTED: { message: 'a fault asks for more devices than the fleet has of that kind', status: 400 },
  SIM_DEVICE_UNKNOWN: { message: 'no simulated device with this id', status: 404 },
  SIM_RUNNER_CLOSED: { message: 'the fleet runner is closed', status: 409 },
});
