// `infra/kafka/kafka resolve`: fetch the broker jars (cached); `infra/kafka/kafka start`: run a local
// broker until Ctrl-C, printing its address (KAFKA_BROKERS=... for the services).
import { resolveKafkaJars, startLocalBroker } from './local-kafka.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);
const command = process.argv[2];

if (command === 'resolve') {
  await resolveKafkaJars(log);
  process.exit(0);
} else if (command === 'start') {
  const kafka = await startLocalBroker({ log });
  process.stdout.write(`KAFKA_BROKERS=${kafka.brokers.join(',')}\n`);
  const shutdown = async () => {
    await kafka.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else {
  log('usage: infra/kafka/kafka resolve|start');
  process.exit(64);
}
