import accepts from '@fastify/accepts';
import type { FastifyInstance } from 'fastify';

/** Where a newcomer goes from `/`: relative paths, so they hold behind any proxy or prefix-free host. */
export interface HomeLinks {
  docs: string;
  openapi: string;
  /** Absent when the dashboard is not built, and so not served. */
  dashboard?: string;
}

const TITLES: Record<keyof HomeLinks, string> = {
  docs: 'API documentation',
  dashboard: 'Dashboard',
  openapi: 'OpenAPI document',
};

const entries = (links: HomeLinks) =>
  (Object.keys(TITLES) as (keyof HomeLinks)[]).flatMap((rel) => {
    const href = links[rel];
    return href === undefined ? [] : [{ rel, href, title: TITLES[rel] }];
  });

/** No script and no style, so the API's own `default-src 'none'` policy fits the page as it is. */
const page = (links: HomeLinks) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Api users</title></head>
<body>
<h1>Api users</h1>
<p>User accounts and JWT authentication, over REST and tRPC.</p>
<ul>
${entries(links)
  .map(({ href, title }) => `<li><a href="${href}">${title}</a> <code>${href}</code></li>`)
  .join('\n')}
</ul>
</body>
</html>
`;

/**
 * `GET /`: the links a newcomer needs, as JSON for API clients and as a short page for browsers (by the
 * Accept header); and one log line with their full URLs once the server listens.
 */
export async function home(fastify: FastifyInstance, { links }: { links: HomeLinks }): Promise<void> {
  await fastify.register(accepts);
  fastify.get('/', async (req, reply) => {
    reply.header('vary', 'accept');
    // JSON first: it is what `*/*` and a missing Accept header get.
    if (req.accepts().type(['json', 'html']) === 'html')
      return reply.type('text/html; charset=utf-8').send(page(links));
    return { name: 'Api users', links };
  });
  fastify.addHook('onListen', async function () {
    const origin = this.listeningOrigin;
    this.log.info(
      `Api users is ready: ${entries(links)
        .map(({ href, title }) => `${title} ${origin}${href}`)
        .join(', ')}`,
    );
  });
}
