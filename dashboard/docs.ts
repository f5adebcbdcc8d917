import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/**
 * The OpenAPI document, built from the routes' zod schemas, at /docs/json, and its UI at /docs,
 * both served from this process (the UI's assets ship inside @fastify/swagger-ui).
 */
export function registerDocs(app: FastifyInstance, version: string): void {
  // On the root instance, not a child scope: @fastify/swagger collects the routes it can see.
  void app.register(swagger, {
    openapi: {
      info: { title: 'driftwatch', description: 'Smart measuring instruments: devices, readings, quarantine and operations.', version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  void app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}
