// The process preload: `node --import <this file> <main>` (the service launcher, the production image and
// compose pass it; the production build emits it as dist/tracing.js). It must run before the main's
// imports are evaluated so pg, kafkajs and http are instrumented when loaded. With tracing not configured
// (the default) it only reads the environment: no SDK, no loader hook.
import { tracingConfigured } from './tracing-config.ts';

if (tracingConfigured(process.env)) {
  const { startTracingSdk } = await import('./tracing-sdk.ts');
  await startTracingSdk(import.meta.url);
}
