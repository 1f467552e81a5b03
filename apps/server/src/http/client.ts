import type { FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import type { Client } from '../core/context.js';

/** Characters of a user agent and of a client address kept: their columns' lengths. */
const USER_AGENT_LENGTH = 255;
const ADDRESS_LENGTH = 64;

/** Dotted decimal, each part 0-255 without leading zeros: already the one form, the usual case, no parse needed. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Cut by code points, so no surrogate pair is split. */
const cut = (text: string, length: number): string =>
  text.length <= length ? text : Array.from(text).slice(0, length).join('');

/**
 * An address in its one written form (an IPv4-mapped IPv6 address as IPv4). With TRUST_PROXY on, the address
 * comes from X-Forwarded-For, which may hold any text a client put there: kept, but no longer than its column.
 */
function addressOf(ip: string): string {
  if (CANONICAL_IPV4.test(ip)) return ip;
  return ipaddr.isValid(ip) ? ipaddr.process(ip).toString() : cut(ip, ADDRESS_LENGTH);
}

export function clientOf(req: FastifyRequest): Client {
  const userAgent = req.headers['user-agent'];
  return {
    ip: addressOf(req.ip),
    userAgent: userAgent === undefined ? undefined : cut(userAgent, USER_AGENT_LENGTH),
    requestId: req.id,
  };
}
