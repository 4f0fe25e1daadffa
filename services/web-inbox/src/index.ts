export { ensureBuilt, isBuildStale } from './build.ts';
export { defaultDistDir } from './dist-dir.ts';
export type { OperationsSources, OperationsSummary } from './operations-route.ts';
export { gatherOperations } from './operations-route.ts';
export type { WebInboxOptions } from './plugin.ts';
export { registerWebInbox } from './plugin.ts';
