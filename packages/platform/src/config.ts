// 12-factor configuration: every setting comes from the environment, validated by a zod schema
// that also documents its default. A bad value stops the process with a clear message.
import type { z } from 'zod';

export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`).join('\n');
    process.stderr.write(`invalid configuration:\n${problems}\n`);
    process.exit(78); // EX_CONFIG
  }
  return result.data;
}
