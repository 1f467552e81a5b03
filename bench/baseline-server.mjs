// The baseline: a bare Fastify (the catalog's version, the server's too) with one route answering a constant
// JSON object. Same process model and settings as the real server: its own process, pino at warn level, 127.0.0.1:PORT.
import Fastify from 'fastify';

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
const body = {
  id_user: 1,
  user_name: 'Baseline',
  login: 'baseline',
  user_role: 2,
  created_at: '2026-01-01T00:00:00.000Z',
};
app.get('/', async () => body);
app.get('/healthz', async () => ({ status: 'ok' }));

const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
