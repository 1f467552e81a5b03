import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './http/app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp(config);
  const { fastify } = app;
  let stopping = false;
  const close = (signal: string) => {
    fastify.log.info(`${signal}: draining requests and closing the database`);
    setTimeout(() => {
      fastify.log.error('shutdown timed out: exiting');
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000).unref();
    fastify.close().then(
      () => process.exit(0),
      (err: unknown) => {
        fastify.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const stop = (signal: string) => {
    if (stopping) {
      fastify.log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    app.startDraining();
    const delay = config.shutdownDelaySeconds;
    if (delay === 0) return close(signal);
    fastify.log.info(`${signal}: /readyz answers 503; still serving for SHUTDOWN_DELAY (${delay} s), then closing`);
    setTimeout(() => close(signal), delay * 1000);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await fastify.listen({ port: config.port, host: config.host });
}

main().catch((err: unknown) => {
  // One clear line: configuration problems list themselves; anything else is named without a stack.
  console.error(
    err instanceof ConfigError ? err.message : `Cannot start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
