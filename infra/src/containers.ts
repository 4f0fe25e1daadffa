// Whether a Docker engine answers, for suites that prefer a container (KurrentDB, Kafka) and must
// otherwise fall back or skip with a reason. Checked once per process.
let answer: Promise<{ available: boolean; reason: string }> | null = null;

export function dockerAvailable(): Promise<{ available: boolean; reason: string }> {
  answer ??= (async () => {
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const client = await Promise.race([
        getContainerRuntimeClient(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref()),
      ]);
      return { available: true, reason: `Docker engine ${client.info.containerRuntime.host}` };
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return { available: false, reason: `no Docker engine answers (${message})` };
    }
  })();
  return answer;
}
