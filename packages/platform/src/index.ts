export { loadConfig } from './config.ts';
export type { Logger } from './logger.ts';
export { createLogger, redactedPaths } from './logger.ts';
export { maskAddress, maskPii, maskValue } from './masking.ts';
export { createMetricsRegistry } from './metrics.ts';
