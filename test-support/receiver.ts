import { createServer, type IncomingHttpHeaders } from 'node:http';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver over real HTTP on a free loopback port: it keeps every request, and fails when told. */
export async function startReceiver() {
  const received: Received[] = [];
  /** Every request, refused ones too. */
  const attempts: Received[] = [];
  let failures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      attempts.push({ headers: req.headers, body });
      if (failures > 0) {
        failures--;
        res.writeHead(503).end('not now');
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}/hooks`,
    received,
    attempts,
    /** Answers the next `n` requests 503. */
    failNext(n: number) {
      failures = n;
    },
    /** Waits until `count` requests have been kept (at most `timeoutMs`). */
    async waitFor(count: number, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`${received.length} of ${count} webhooks arrived`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
