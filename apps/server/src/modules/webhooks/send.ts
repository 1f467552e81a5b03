import { type LookupAddress, lookup } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import ipaddr from 'ipaddr.js';

/** The most of a receiver's answer that is read: its status is what counts. */
const MAX_ANSWER_BYTES = 1024;

/**
 * Whether a webhook may reach an address: public unicast only (no loopback, private, link-local, which holds
 * the clouds' metadata service, carrier NAT, multicast or reserved), unless WEBHOOK_ALLOW_PRIVATE says so.
 */
function mayReach(address: string, allowPrivate: boolean): boolean {
  if (allowPrivate) return true;
  return ipaddr.isValid(address) && ipaddr.process(address).range() === 'unicast';
}

export class RefusedTarget extends Error {}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * DNS lookup for the request itself, refusing an address it may not reach: checked at connect time, on the
 * address connected to, so a name that resolves elsewhere later (DNS rebinding) gains nothing.
 */
const guardedLookup =
  (allowPrivate: boolean) => (hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const refused = addresses.find((a) => !mayReach(a.address, allowPrivate));
      if (refused) return callback(new RefusedTarget(`${hostname} resolves to a private address`), []);
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      return first ? callback(null, first.address, first.family) : callback(new RefusedTarget('no address'), []);
    });
  };

/** Whether a URL's host may be reached now (literal address or every address it resolves to). */
export async function assertReachable(url: URL, allowPrivate: boolean): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) {
    if (!mayReach(host, allowPrivate)) throw new RefusedTarget('a private address');
    return;
  }
  await new Promise<void>((resolve, reject) =>
    guardedLookup(allowPrivate)(host, { all: true }, (err) => (err ? reject(err) : resolve())),
  );
}

export interface Sent {
  status: number;
  latencyMs: number;
}

/**
 * POSTs `body` to `url` with `headers`: redirects are not followed (one is a failure, as any non-2xx), the
 * answer is read up to a kilobyte, and the whole exchange is cut off after `timeoutMs`.
 */
export async function postWebhook(
  url: URL,
  headers: Record<string, string>,
  body: string,
  { timeoutMs, allowPrivate }: { timeoutMs: number; allowPrivate: boolean },
): Promise<Sent> {
  await assertReachable(url, allowPrivate);
  const started = performance.now();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    lookup: guardedLookup(allowPrivate) as unknown as RequestOptions['lookup'],
    signal: AbortSignal.timeout(timeoutMs),
  };
  return new Promise<Sent>((resolve, reject) => {
    const req = send(url, options, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, latencyMs: Math.round(performance.now() - started) });
      res.on('end', done);
      res.on('close', done);
      res.on('error', () => done());
    });
    req.on('error', reject);
    req.end(body);
  });
}
