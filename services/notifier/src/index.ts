export { notifierConfigSchema } from './config.ts';
