import {
  type AuthKind,
  ErrorBodySchema,
  type ErrorCode,
  errorCodesOf,
  errorStatus,
  type Operation,
  operationNames,
  operations,
  pathParameters,
  REST_PREFIX,
  routers,
  schemaNames,
  TRPC_PREFIX,
  takesBody,
  wireTypes,
} from '@api-users/contract';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type RefusalName, refusalBody, refusals } from '../../core/errors.js';
import { RateLimitRefusal } from '../rate-limit.js';
import { answerExamples, requestExamples } from './openapi-examples.js';

export const OPENAPI_PATH = `${REST_PREFIX}/openapi.json`;
export const DOCS_PREFIX = '/docs';

type JsonSchema = z.core.JSONSchema.JSONSchema;
type JsonObject = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: JsonObject & { title: string; version: string };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, JsonObject | JsonObject[]>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonObject> };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: JsonSchema, example?: unknown) => ({
  'application/json': { schema, ...(example === undefined ? {} : { example }) },
});

/**
 * How zod's JSON Schema is adjusted for the document: integers and booleans that may arrive as strings (REST
 * paths and queries) are the values they stand for.
 */
const toJsonSchemaOptions = {
  target: 'draft-2020-12',
  unrepresentable: 'throw',
  override: ({ zodSchema, jsonSchema }) => {
    const wire = wireTypes.get(zodSchema);
    if (!wire) return;
    // Its value-or-string union goes; what wraps it (a default, a description) stays.
    delete jsonSchema.anyOf;
    Object.assign(jsonSchema, wire);
  },
} satisfies Parameters<typeof z.toJSONSchema>[1];

/** A component's name, as the contract names the schema (`schemaNames`). */
function componentName(schema: z.ZodType): string {
  const name = schemaNames.get(schema)?.id;
  if (!name) throw new Error('Every body and answer schema of the operation table must be in schemaNames');
  return name;
}

/**
 * One registry per direction: a schema's input and output differ (defaults, transforms), and zod converts
 * a whole registry with one `io`. Registered schemas nested in others become `$ref`s (UserPage → User).
 */
function componentSchemas(schemas: Record<'input' | 'output', Map<string, z.ZodType>>): Record<string, JsonSchema> {
  const result: Record<string, JsonSchema> = {};
  for (const io of ['input', 'output'] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of schemas[io]) registry.add(schema, { id });
    const converted = z.toJSONSchema(registry, { ...toJsonSchemaOptions, io, uri: (id) => ref(id).$ref });
    // Each entry carries its own `$schema` (3.1 already defaults to 2020-12) and a fragment `$id` (its path).
    for (const [id, { $schema, $id, ...schema }] of Object.entries(converted.schemas)) {
      // One name for two different schemas would silently document one of them wrongly.
      if (id in result) throw new Error(`Schema ${id} is used both as an input and as an output`);
      result[id] = schema;
    }
  }
  return result;
}

/** The body an operation reads: its input, less what the path carries. */
function bodySchema(op: Operation): z.ZodType {
  const inPath = pathParameters(op);
  if (inPath.length === 0) return op.input;
  if (!(op.input instanceof z.ZodObject))
    throw new Error(`${op.path}: an input with path parameters must be an object`);
  return z.strictObject(Object.fromEntries(Object.entries(op.input.shape).filter(([key]) => !inPath.includes(key))));
}

/** The component name of an operation's body: its input's, or `<Input>Body` where the path carries part of it. */
const bodyName = (op: Operation): string => componentName(op.input) + (pathParameters(op).length > 0 ? 'Body' : '');

const errorHeaders: Partial<Record<number, JsonObject>> = {
  401: {
    'WWW-Authenticate': {
      description: 'RFC 6750 challenge, when a token was missing or refused',
      schema: { type: 'string' },
    },
  },
  429: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
};

/** The error body, its `code` narrowed to those one status of one operation can carry. */
function errorBody(codes: ErrorCode[]): JsonSchema {
  const { $schema, ...schema } = z.toJSONSchema(ErrorBodySchema.extend({ code: z.enum(codes) }), {
    ...toJsonSchemaOptions,
    io: 'output',
  });
  return schema;
}

/** An error body as the API sends it for `code`: the sentence of its first refusal (the table holds every one). */
function errorExample(code: ErrorCode): JsonObject {
  if (code === 'RATE_LIMITED') return { code, msg: new RateLimitRefusal(42_000, true).msg };
  const name = (Object.keys(refusals) as RefusalName[]).find((refusal) => refusals[refusal][0] === code);
  if (!name) throw new Error(`No refusal answers ${code}: the document has no example for it`);
  const issues = code === 'VALIDATION_FAILED' ? { issues: [{ path: 'login', message: 'At least 3 characters' }] } : {};
  return { ...refusalBody(name), ...issues };
}

/** The response of one error status that carries `codes`, with an example of the first (or `example`). */
function errorResponse(codes: ErrorCode[], example = errorExample(codes[0] as ErrorCode)): JsonObject {
  const headers = errorHeaders[errorStatus[codes[0] as ErrorCode]];
  return {
    description: `Error: ${codes.join(', ')}`,
    ...(headers ? { headers } : {}),
    content: jsonContent(errorBody(codes), example),
  };
}

/** One response per error status, each listing the codes the operation can answer with at that status. */
function errorResponses(op: Operation): Record<string, JsonObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(op)) {
    const status = errorStatus[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].map(([status, codes]) => [status, errorResponse(codes)]));
}

const securitySchemes = {
  accessToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The `access_token` of a pair from /login or /refresh.',
  },
  refreshToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'opaque',
    description: 'The `refresh_token` of a pair: only /refresh and /logout2 take it.',
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The METRICS_TOKEN setting: only /metrics takes it.',
  },
};

const security: Record<AuthKind, JsonObject[]> = {
  none: [],
  // Anonymous, or with an access token, which must then be valid.
  optional: [{}, { accessToken: [] }],
  access: [{ accessToken: [] }],
  refresh: [{ refreshToken: [] }],
};

/** Where the REST adapter reads the input: a JSON body for POST and PATCH, query parameters otherwise, and the path. */
function inputDocs(op: Operation, example: Record<string, unknown>): JsonObject {
  const inPath = pathParameters(op);
  const input = z.toJSONSchema(op.input, { ...toJsonSchemaOptions, io: 'input' });
  const required = new Set(input.required ?? []);
  const parameters = Object.entries(input.properties ?? {})
    .filter(([name]) => inPath.includes(name) || !takesBody(op))
    .map(([name, property]) => {
      // A parameter's description belongs to the parameter, not to its schema.
      const { description, ...schema } = typeof property === 'object' ? property : {};
      return {
        name,
        in: inPath.includes(name) ? 'path' : 'query',
        required: inPath.includes(name) || required.has(name),
        ...(description ? { description } : {}),
        schema,
        ...(example[name] === undefined ? {} : { example: example[name] }),
      };
    });
  return {
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(takesBody(op)
      ? {
          // The REST adapter reads a missing body as `{}`, so a body is required only where `{}` is not valid.
          requestBody: {
            required: !bodySchema(op).safeParse({}).success,
            content: jsonContent(
              ref(bodyName(op)),
              Object.fromEntries(Object.entries(example).filter(([key]) => !inPath.includes(key))),
            ),
          },
        }
      : {}),
  };
}

const ROOT = [{ url: '/', description: 'The server’s root, outside /api/v1' }];
const SERVICE_TAG = {
  name: 'service',
  description: 'Health, readiness, public keys and metrics, at the server’s root',
};
const status: JsonSchema = { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] };

/**
 * The endpoints outside the operation table, served at the root for load balancers, verifiers and Prometheus:
 * described here by hand because they are not operations (no token kinds, no tRPC twin, no error table).
 */
function serviceEndpoints(): OpenApiDocument['paths'] {
  // Any request may meet it; each of these GETs documents it, as the linters ask for a 4xx on every operation.
  const uriTooLong = { 414: errorResponse(['URI_TOO_LONG']) };
  const get = (
    operationId: string,
    summary: string,
    description: string,
    responses: JsonObject,
    security: JsonObject[] = [],
  ) => ({ servers: ROOT, get: { operationId, tags: ['service'], summary, description, security, responses } });
  return {
    '/healthz': get('health', 'Liveness', 'Answers while the process runs, whatever the database does.', {
      200: { description: 'Alive', content: jsonContent(status, { status: 'ok' }) },
      ...uriTooLong,
    }),
    '/readyz': get(
      'readiness',
      'Readiness',
      'Answers 200 while the database answers and no shutdown has begun; 503 otherwise (from SIGTERM for ' +
        'SHUTDOWN_DELAY seconds, requests are still served): a load balancer sends traffic only to a ready instance.',
      {
        200: { description: 'Ready', content: jsonContent(status, { status: 'ok' }) },
        ...uriTooLong,
        503: errorResponse(['DB_UNAVAILABLE', 'SHUTTING_DOWN']),
      },
    ),
    '/.well-known/jwks.json': get(
      'jwks',
      'Public keys',
      'The public keys access tokens are signed with (RFC 7517), for services that verify tokens themselves; ' +
        'cacheable for 5 minutes. HMAC secrets are never published: with JWT_SECRET alone the set is empty.',
      {
        200: {
          description: 'The JWK set',
          content: {
            'application/jwk-set+json': {
              schema: {
                type: 'object',
                properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
                required: ['keys'],
              },
              example: {
                keys: [
                  {
                    kty: 'OKP',
                    crv: 'Ed25519',
                    x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
                    kid: 'k1',
                    alg: 'EdDSA',
                    use: 'sig',
                  },
                ],
              },
            },
          },
        },
        ...uriTooLong,
      },
    ),
    '/metrics': get(
      'metrics',
      'Metrics',
      'Prometheus text format (requests by operation and status, sign-in outcomes, rate-limit refusals, the ' +
        'database pool and statements, the password-hash queue, webhook deliveries, the process). Served only ' +
        'when METRICS_TOKEN is set (to that bearer token) or on METRICS_PORT of its own; otherwise 404.',
      {
        200: {
          description: 'The metrics',
          content: {
            'text/plain': {
              schema: { type: 'string' },
              example: 'api_users_operations_total{operation="login",status="200"} 12\n',
            },
          },
        },
        401: errorResponse(['AUTH_REQUIRED'], refusalBody('metricsTokenRequired')),
      },
      [{ metricsToken: [] }],
    ),
  };
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
        description: op.description,
        security: security[op.auth],
        ...inputDocs(op, requestExamples[name] ?? {}),
        responses: {
          [op.status]: {
            description: op.summary,
            content: jsonContent(ref(componentName(op.output)), answerExamples[name]),
          },
          ...errorResponses(op),
        },
      },
    };
  }
  const bodies = ops.filter(([, op]) => takesBody(op)).map(([, op]) => [bodyName(op), bodySchema(op)] as const);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Api users',
      // The version of the REST API (its /api/v1 prefix), not of the server package.
      version: '1',
      description:
        'User accounts and JWT sessions. Every error, at every status, has the one error shape ' +
        '`{code, msg, issues?}`; each response lists the codes it can carry. The same operations are served ' +
        `over tRPC at ${TRPC_PREFIX}.`,
      license: { name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' },
      contact: { name: 'Api users maintainers' },
    },
    servers: [{ url: REST_PREFIX, description: 'This server' }],
    tags: [...Object.entries(routers).map(([name, description]) => ({ name, description })), SERVICE_TAG],
    paths: { ...paths, ...serviceEndpoints() },
    components: {
      schemas: componentSchemas({
        input: new Map(bodies),
        output: new Map(ops.map(([, op]) => [componentName(op.output), op.output])),
      }),
      securitySchemes,
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
