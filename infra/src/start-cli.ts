// bin/start.sh runs this: the whole service on the embedded default until Ctrl-C.
import { startLocalStack } from './local-stack.ts';

try {
  const stack = await startLocalStack({});
  process.stdout.write('all services ready; Ctrl-C stops everything\n');
  const shutdown = () => {
    process.stdout.write('stopping…\n');
    void stack.stop();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await stack.exited;
  process.exit(0);
} catch (error) {
  process.stderr.write(`start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
