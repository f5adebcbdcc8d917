import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../dashboard/error-handler.js';
import { InfluxErrors } from '../../ingest/store/influx/errors.js';
import { DashboardErrors } from '../../dashboard/errors.js';

describe('the API error handler', () => {
  it('logs a server-side failure’s detail but answers only with its code and message', async () => {
    const app = Fastify({ logger: false });
    installErrorHandler(app);
    app.get('/upstream', async () => {
      throw InfluxErrors.make('INFLUX_QUERY_FAILED', '401 {"error":"authorization failed for user driftwatch on db telemetry_prod"}');
    });
    app.get('/mine', async () => {
      throw DashboardErrors.make('DSH_BAD_REQUEST', 'from must be before to');
    });
    const up = await app.inject({ method: 'GET', url: '/upstream' });
    expect(up.statusCode).toBe(502);
    expect(up.json()).toMatchObject({ code: 'INFLUX_QUERY_FAILED', detail: InfluxErrors.codes.INFLUX_QUERY_FAILED.message });
    expect(up.body).not.toMatch(/telemetry_prod|authorization failed/);
    // a client's own mistake keeps its detail: it is what they need to fix the request
    const mine = await app.inject({ method: 'GET', url: '/mine' });
    expect(mine.statusCode).toBe(400);
    expect(mine.json().detail).toContain('from must be before to');
    await app.close();
  });
});
