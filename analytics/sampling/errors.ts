import { errorTable } from '../../lib/errors.js';

/** Codes of the sampling-verification part (lots, plans, lists, results, decisions). */
export const SamplingErrors = errorTable({
  SMP_PLAN_INVALID: { message: 'no sampling plan for these parameters', status: 400 },
  SMP_LOT_NOT_FOUND: { message: 'no such lot', status: 404 },
  SMP_LIST_NOT_FOUND: { message: 'no such sampling list', status: 404 },
  SMP_NOT_IN_LIST: { message: 'the instrument is not on this sampling list', status: 409 },
  SMP_NOT_ASSIGNED: { message: 'the sampling list is assigned to another inspector', status: 403 },
  SMP_RESULT_EXISTS: { message: 'a result for this instrument on this list is already recorded', status: 409 },
  SMP_NO_PLAN: { message: 'the lot has no sampling plan yet', status: 409 },
  SMP_DECISION_SIGNED: { message: 'the lot decision is signed and cannot change', status: 409 },
  SMP_DECISION_PENDING: { message: 'the sample is not complete enough to decide', status: 409 },
  SMP_NO_DECISION: { message: 'the lot has no decision to sign', status: 409 },
  SMP_INSPECTION_DISCONTINUED: { message: 'ISO 2859-1 inspection of this product is discontinued (9.4: five lots not accepted under tightened inspection); state the inspection to resume after corrective action', status: 409 },
});

export type SamplingErrorCode = keyof typeof SamplingErrors.codes;
