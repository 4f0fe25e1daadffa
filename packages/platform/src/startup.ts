// A process that cannot start says why on stderr, in one plain line naming the setting to fix, and exits 1
// (configuration errors exit 78 from loadConfig); supervisors then show the reason, not a stack trace.
export function failStartup(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cannot start: ${message}\n`);
  process.exit(1);
}
