import type { CommandDeps } from './command-deps.ts';
import type { DurableLog } from './durable-append.ts';

/** What every command route plugin is registered with. */
export interface CommandRouteOptions {
  deps: CommandDeps;
  log: DurableLog;
}
