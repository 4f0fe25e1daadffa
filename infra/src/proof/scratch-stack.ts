// The whole stack on a scratch data folder and free ports, for the proof commands (bin/fuzz, bin/soak)
// and their tests. The folder is removed on stop.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../embedded-postgres.ts';
import { freeStackConfig, type RunningStack, type StackConfig, startLocalStack } from '../local-stack.ts';

export interface ScratchStack extends RunningStack {
  config: StackConfig;
  apiUrl: string;
  dataDir: string;
}

export async function startScratchStack(options: {
  env?: Record<string, string>;
  output?: (service: string, chunk: string) => void;
  log?: (line: string) => void;
}): Promise<ScratchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hatch-proof-'));
  chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as `postgres` and must reach its folder
  const config = await freeStackConfig();
  // localDatabase() reads these from the environment.
  process.env.HATCH_DATA_DIR = dataDir;
  process.env.HATCH_PG_PORT = String(await freePort());
  delete process.env.DATABASE_URL;
  const stack = await startLocalStack({
    config,
    env: { LOG_LEVEL: 'info', ...options.env },
    output: options.output,
    log: options.log ?? (() => {}),
  });
  const stop = async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...stack, stop, config, apiUrl: `http://127.0.0.1:${config.apiPort}`, dataDir };
}
