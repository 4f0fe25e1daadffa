export { createCommandApi } from './app.ts';
export type { CommandDeps } from './command-deps.ts';
export { registerCommandRoutes } from './command-routes.ts';
export type { CommandApiConfig } from './config.ts';
export { commandApiConfigFrom, commandApiConfigSchema, defaultCommandApiConfig } from './config.ts';
