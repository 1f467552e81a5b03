import { type OperationName, operationNames, operations, trpcPathOf } from '@api-users/contract';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientOf } from '../client.js';
import { execute, type Runtime } from '../execute.js';
import { trpcErrorEnvelope } from './trpc-errors.js';

/** Queries by their tRPC path (`users.byId`). */
const queries = new Map<string, OperationName>(
  operationNames.filter((name) => operations[name].method === 'GET').map((name) => [trpcPathOf(name), name]),
);

export type TrpcRequest = FastifyRequest<{
  Params: { path: string };
  Querystring: { batch?: unknown; input?: unknown };
}>;

/**
 * tRPC's Fastify adapter turns each request into a web Request and its answer into a web stream, which
 * halves a query's throughput. Plain queries, single or batched, are answered here in tRPC's wire format
 * instead (the @trpc/client tests hold the two paths to one format); anything else (mutations, streamed
 * batches, unknown procedures, input that is not JSON) goes to tRPC. Returns false when it did not answer.
 */
export async function answerQuery(
  req: TrpcRequest,
  paths: string[],
  reply: FastifyReply,
  runtime: Runtime,
  log: (err: unknown) => void,
) {
  const { batch: batchFlag, input: rawInput } = req.query;
  if (req.headers['trpc-accept'] !== undefined || (rawInput !== undefined && typeof rawInput !== 'string'))
    return false;
  const batch = batchFlag === '1' || batchFlag === 'true';
  const names = paths.map((path) => queries.get(path));
  if ((!batch && names.length !== 1) || names.some((name) => name === undefined)) return false;
  let input: unknown;
  try {
    input = rawInput === undefined ? undefined : JSON.parse(rawInput);
  } catch {
    return false;
  }
  if (batch && input !== undefined && (typeof input !== 'object' || input === null)) return false;
  const answers = await Promise.all(
    (names as OperationName[]).map(async (name, i) => {
      const request = {
        authorization: req.headers.authorization,
        input: batch ? (input as Record<number, unknown> | undefined)?.[i] : input,
        ...clientOf(req),
      };
      try {
        return { status: 200, headers: {}, body: { result: { data: await execute(name, runtime, request) } } };
      } catch (err) {
        const envelope = trpcErrorEnvelope(err);
        if (envelope.internal) log(err);
        return envelope;
      }
    }),
  );
  // As tRPC does: one status for the batch when all agree, 207 when they differ.
  const statuses = new Set(answers.map((a) => a.status));
  await reply
    .code(statuses.size === 1 ? (answers[0]?.status ?? 200) : 207)
    .headers(Object.assign({}, ...answers.map((a) => a.headers)))
    .send(batch ? answers.map((a) => a.body) : answers[0]?.body);
  return true;
}
