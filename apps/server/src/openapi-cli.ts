import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from './http/adapters/openapi.js';

/**
 * Writes the committed copy of the OpenAPI document (apps/server/openapi.json) for publishing. The `openapi`
 * script then lets biome format it, so the committed file passes the repository's format check.
 */
const target = fileURLToPath(new URL('../openapi.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
