import { z } from 'zod';
import { LEVELS, SEVERITIES, singleSamplingPlan } from './iso2859-1.js';
import { lqPlan } from './iso2859-2.js';
import { messevPlan } from './messev.js';
import { variablesPlan } from './variables.js';

/** What a regulator asks for; validated once at the API boundary and again when a lot's plan is set. */
export const PlanRequest = z.discriminatedUnion('scheme', [
  // inspection: left out, the lot's product history decides it by the switching rules (sampling.ts setPlan)
  z.strictObject({ scheme: z.literal('iso2859-1'), aql: z.number().positive(), level: z.enum(LEVELS).default('II'), inspection: z.enum(SEVERITIES).optional() }),
  z.strictObject({ scheme: z.literal('iso2859-2'), lq: z.number().gt(0).lt(1), beta: z.number().gt(0).lt(1).default(0.1) }),
  z.strictObject({ scheme: z.literal('messev'), conforming: z.number().gt(0).lt(1).default(0.95), confidence: z.number().gt(0).lt(1).default(0.95) }),
  z.strictObject({ scheme: z.literal('iso3951-1'), aql: z.number().gt(0).lt(0.5), lq: z.number().gt(0).lt(0.5), alpha: z.number().gt(0).lt(1).default(0.05), beta: z.number().gt(0).lt(1).default(0.1) }),
]);
export type PlanRequest = z.output<typeof PlanRequest>;

/** A lot's plan as stored with it: enough to decide and to show how it was derived. */
export interface LotPlan {
  request: PlanRequest;
  sampleSize: number;
  /** attributes schemes: Ac and Re; variables: null */
  accept: number | null;
  reject: number | null;
  /** variables scheme: the acceptability constant */
  k: number | null;
  detail: Record<string, unknown>;
}

export function planFor(request: PlanRequest, lotSize: number): LotPlan {
  switch (request.scheme) {
    case 'iso2859-1': {
      const p = singleSamplingPlan({ lotSize, aql: request.aql, level: request.level, inspection: request.inspection ?? 'normal' });
      return { request, sampleSize: p.sampleSize, accept: p.accept, reject: p.reject, k: null, detail: { ...p } };
    }
    case 'iso2859-2': {
      const p = lqPlan({ lotSize, lq: request.lq, beta: request.beta });
      return { request, sampleSize: p.sampleSize, accept: p.accept, reject: p.reject, k: null, detail: { ...p } };
    }
    case 'messev': {
      const p = messevPlan({ lotSize, conforming: request.conforming, confidence: request.confidence });
      return { request, sampleSize: p.sampleSize, accept: p.accept, reject: p.reject, k: null, detail: { ...p } };
    }
    case 'iso3951-1': {
      const p = variablesPlan({ aql: request.aql, lq: request.lq, alpha: request.alpha, beta: request.beta, lotSize });
      return { request, sampleSize: p.sampleSize, accept: null, reject: null, k: p.k, detail: { ...p } };
    }
  }
}
