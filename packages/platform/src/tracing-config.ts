// Read by the preload before anything else is loaded: no imports, so tracing off costs one env read.

/**
 * Whether the standard OTEL_* environment asks for traces: an OTLP endpoint or a traces exporter other
 * than `none`, and OTEL_SDK_DISABLED not `true`. Nothing is loaded otherwise.
 */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(exporter || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}
