import * as contract from '@api-users/contract';
import {
  type AuthKind,
  ErrorBodySchema,
  type ErrorCode,
  errorStatus,
  type Operation,
  type OperationName,
  operationNames,
  operations,
} from '@api-users/contract';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { REST_PREFIX } from './rest.js';

export const OPENAPI_PATH = `${REST_PREFIX}/openapi.json`;
export const DOCS_PREFIX = '/docs';

type JsonSchema = z.core.JSONSchema.JSONSchema;
type JsonObject = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonObject> };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: JsonSchema) => ({ 'application/json': { schema } });

/** Component names are the contract's export names less `Schema` (UserSchema → User), so they stay stable. */
function componentName(schema: z.ZodType): string {
  const exported = Object.entries(contract).find(([, value]) => value === schema);
  if (!exported) throw new Error('Every schema in the operation table must be exported by the contract');
  return exported[0].replace(/Schema$/, '');
}

/**
 * One registry per direction: a schema's input and output differ (defaults, transforms), and zod converts
 * a whole registry with one `io`. Registered schemas nested in others become `$ref`s (UserPage → User).
 */
function componentSchemas(schemas: Record<'input' | 'output', z.ZodType[]>): Record<string, JsonSchema> {
  const result: Record<string, JsonSchema> = {};
  for (const io of ['input', 'output'] as const) {
    const registry = z.registry<{ id: string }>();
    for (const schema of new Set(schemas[io])) registry.add(schema, { id: componentName(schema) });
    const converted = z.toJSONSchema(registry, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'throw',
      uri: (id) => ref(id).$ref,
    });
    // Each entry carries its own `$schema` (3.1 already defaults to 2020-12) and a fragment `$id` (its path).
    for (const [id, { $schema, $id, ...schema }] of Object.entries(converted.schemas)) {
      // One name for two different schemas would silently document one of them wrongly.
      if (id in result) throw new Error(`Schema ${id} is used both as an input and as an output`);
      result[id] = schema;
    }
  }
  return result;
}

/** Errors only the handlers know of: the table has no field that implies them. */
const handlerErrors: Partial<Record<OperationName, ErrorCode[]>> = {
  register: ['LOGIN_TAKEN'],
  login: ['BAD_CREDENTIALS'],
};

/** Every error code an operation can answer with, mostly derived from its fields in the table. */
function errorCodes(name: OperationName): ErrorCode[] {
  const op: Operation = operations[name];
  const codes: ErrorCode[] = ['VALIDATION_FAILED'];
  if (op.auth === 'access' || op.auth === 'refresh') codes.push('AUTH_REQUIRED');
  // An optional token is still verified when sent.
  if (op.auth !== 'none') codes.push('INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'WRONG_TOKEN_TYPE');
  // An optional token exists to unlock what the role of an anonymous caller does not allow.
  if (op.auth === 'optional') codes.push('FORBIDDEN');
  if (op.path.includes('/:')) codes.push('NOT_FOUND');
  // Fastify parses the body of every method but GET before the operation runs, even where it goes unread.
  if (op.method !== 'GET') codes.push('PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (op.rateLimited) codes.push('RATE_LIMITED');
  codes.push(...(handlerErrors[name] ?? []), 'INTERNAL', 'DB_UNAVAILABLE');
  return codes;
}

const errorHeaders: Partial<Record<number, JsonObject>> = {
  401: {
    'WWW-Authenticate': {
      description: 'RFC 6750 challenge, when a token was missing or refused',
      schema: { type: 'string' },
    },
  },
  429: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
};

/** One response per error status, each with the one error body; the description names its codes. */
function errorResponses(name: OperationName): Record<string, JsonObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodes(name)) {
    const status = errorStatus[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonObject> = {};
  for (const [status, codes] of byStatus) {
    const headers = errorHeaders[status];
    responses[status] = {
      description: codes.join(', '),
      ...(headers ? { headers } : {}),
      content: jsonContent(ref(componentName(ErrorBodySchema))),
    };
  }
  return responses;
}

const authDocs: Record<AuthKind, JsonObject> = {
  none: {},
  optional: {
    security: [{}, { bearerAuth: [] }],
    description: 'Bearer token optional: an access token; one that is sent must be valid.',
  },
  access: { security: [{ bearerAuth: [] }], description: 'Bearer token: an access token.' },
  refresh: { security: [{ bearerAuth: [] }], description: 'Bearer token: the refresh token of a pair.' },
};

/** Where the REST adapter reads the input: a JSON body for POST, query and path parameters otherwise. */
function inputDocs(op: Operation): JsonObject {
  if (op.method === 'POST') {
    // The REST adapter reads a missing body as `{}`, so a body is required only where `{}` is not valid.
    return {
      requestBody: { required: !op.input.safeParse({}).success, content: jsonContent(ref(componentName(op.input))) },
    };
  }
  const { properties = {}, required = [] } = z.toJSONSchema(op.input, { target: 'draft-2020-12', io: 'input' });
  const inPath = new Set([...op.path.matchAll(/:(\w+)/g)].map((m) => m[1]));
  const parameters = Object.entries(properties).map(([name, schema]) => ({
    name,
    in: inPath.has(name) ? 'path' : 'query',
    required: inPath.has(name) || required.includes(name),
    schema,
  }));
  return parameters.length > 0 ? { parameters } : {};
}

/** The OpenAPI 3.1 document of the REST transport, generated from the operation table alone. */
export function buildOpenApiDocument(): OpenApiDocument {
  const ops = operationNames.map((name) => [name, operations[name] as Operation] as const);
  const paths: OpenApiDocument['paths'] = {};
  for (const [name, op] of ops) {
    const path = op.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = {
      ...paths[path],
      [op.method.toLowerCase()]: {
        operationId: name,
        tags: [op.router],
        summary: op.summary,
        ...authDocs[op.auth],
        ...inputDocs(op),
        responses: {
          [op.status]: { description: 'Success', content: jsonContent(ref(componentName(op.output))) },
          ...errorResponses(name),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Api users',
      // The version of the REST API (its /api/v1 prefix), not of the server package.
      version: '1',
      description:
        'Accounts and JWT sessions. Every error, at every status, has the ErrorBody shape. ' +
        'The same operations are served over tRPC at /trpc.',
    },
    servers: [{ url: REST_PREFIX }],
    paths,
    components: {
      schemas: componentSchemas({
        input: ops.filter(([, op]) => op.method === 'POST').map(([, op]) => op.input),
        output: [...ops.map(([, op]) => op.output), ErrorBodySchema],
      }),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

/** Serves the document and, at /docs, Swagger UI over it with its assets from the package (no CDN). */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const document = buildOpenApiDocument();
  // @fastify/swagger's types know OpenAPI 3.0 documents only; the test validates this one as 3.1.
  await app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
  app.get(OPENAPI_PATH, async () => document);
}
