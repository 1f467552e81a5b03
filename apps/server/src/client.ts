import type { FastifyRequest } from 'fastify';

/** Who is calling, as sessions and the audit log remember it; never a credential. */
export interface Client {
  /** The client's address, as Fastify resolved it (TRUST_PROXY decides whether X-Forwarded-For counts). */
  ip: string;
  /** The `User-Agent` header, cut to what the database keeps. */
  userAgent: string | undefined;
  /** The request id of the logs and the `x-request-id` header. */
  requestId: string;
}

/** Characters of a user agent kept: its columns' length. */
const USER_AGENT_LENGTH = 255;

/** Cut by code points, so no surrogate pair is split. */
const cut = (text: string, length: number): string =>
  text.length <= length ? text : Array.from(text).slice(0, length).join('');

export function clientOf(req: FastifyRequest): Client {
  const userAgent = req.headers['user-agent'];
  return {
    ip: req.ip,
    userAgent: userAgent === undefined ? undefined : cut(userAgent, USER_AGENT_LENGTH),
    requestId: req.id,
  };
}
