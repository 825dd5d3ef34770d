import 'reflect-metadata';
import { createApp } from './app.factory';
import { ConfigError } from './config/environment';
import { loadConfig } from './config/load-config';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Past the deadline a stuck shutdown hook must not keep the pod alive.
      setTimeout(() => process.exit(1), config.http.shutdownTimeoutMs).unref();
      // Stops accepting, lets requests in flight finish, then closes the pool, Redis and Bull.
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  await app.listen(config.http.port, config.http.host);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Proximity failed to start: ${(err as Error).message}\n`);
  }
  process.exit(1);
});
