// A real Kafka broker for tests and local runs. Order: KAFKA_BROKERS when set, else a testcontainers
// Kafka when a Docker engine answers, else a single-node KRaft broker from Apache Kafka jars that Maven
// resolves into infra/kafka/libs (git-ignored, cached after the first run) and Java 17 runs.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dockerAvailable } from '../containers.ts';
import { freePort } from '../embedded-postgres.ts';

const run = promisify(execFile);

export const kafkaHome = resolve(dirname(fileURLToPath(import.meta.url)), '../../kafka');
const libsDir = join(kafkaHome, 'libs');
const completeMarker = join(libsDir, '.complete');
const brokerVersion = '3.9.1';

export interface RunningKafka {
  /** `host:port` list for kafkajs' `brokers`. */
  brokers: string[];
  /** Where it came from: `KAFKA_BROKERS`, `testcontainers` or `local`. */
  source: 'env' | 'testcontainers' | 'local';
  stop(): Promise<void>;
}

/** Resolves the broker's jars with Maven once; later calls return at once. */
export async function resolveKafkaJars(log: (line: string) => void = () => {}): Promise<string> {
  if (existsSync(completeMarker)) return libsDir;
  // Resolve into a private folder and rename: parallel test files never see a half-filled libs folder.
  const staging = `${libsDir}.staging-${process.pid}-${randomBytes(3).toString('hex')}`;
  log(`resolving Apache Kafka ${brokerVersion} with Maven into ${libsDir} (first run only)`);
  const started = Date.now();
  try {
    await run(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(kafkaHome, 'pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
        `-Dmaven.repo.local=${join(kafkaHome, '.m2')}`,
        '-DincludeScope=runtime',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    await writeFile(join(staging, '.complete'), `${brokerVersion}\n`);
    if (!existsSync(completeMarker)) {
      await rm(libsDir, { recursive: true, force: true });
      await rename(staging, libsDir).catch(async (error: unknown) => {
        if (!existsSync(completeMarker)) throw error; // another process won the race: fine
      });
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const jars = (await readdir(libsDir)).filter((f) => f.endsWith('.jar'));
  log(`resolved ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libsDir;
}

const canConnect = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });

const log4jWarn = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
`;

export interface LocalKafkaOptions {
  /** Partitions of the internal offsets topic (default 5: fewer means a faster first group join). */
  offsetsPartitions?: number;
  log?: (line: string) => void;
  /** How long to wait for the broker to accept connections (default 60 s). */
  startTimeoutMs?: number;
}

/** The broker process exited before it listened (most often: a port picked as free was taken meanwhile). */
class BrokerExitedEarly extends Error {}

/**
 * Starts a single-node KRaft broker (broker + controller in one JVM) on free loopback ports. A broker that
 * exits before listening is started again on new ports (twice at most): a port that was free when picked
 * can be taken by another process before the JVM binds it, and that must not fail a test run.
 */
export async function startLocalBroker(options: LocalKafkaOptions = {}): Promise<RunningKafka> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBrokerOnce(options);
    } catch (error) {
      if (!(error instanceof BrokerExitedEarly) || attempt >= 3) throw error;
      options.log?.(`local Kafka broker exited before listening; starting it again on new ports (${error.message})`);
    }
  }
}

async function startBrokerOnce(options: LocalKafkaOptions): Promise<RunningKafka> {
  const log = options.log ?? (() => {});
  const libs = await resolveKafkaJars(log);
  const [port, controllerPort] = [await freePort(), await freePort()];
  await mkdir(join(tmpdir(), 'hatch-kafka'), { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'hatch-kafka', 'broker-'));
  const props = join(dir, 'server.properties');
  await writeFile(join(dir, 'log4j.properties'), log4jWarn);
  await writeFile(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      `offsets.topic.num.partitions=${options.offsetsPartitions ?? 5}`,
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  const java = ['-Xmx512m', `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`, '-cp', `${libs}/*`];
  // A cluster id is 16 random bytes, base64url: what `StorageTool random-uuid` prints, without a JVM start.
  const clusterId = randomBytes(16).toString('base64url');
  await run('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props]);

  const output: string[] = [];
  const child: ChildProcess = spawn('java', [...java, 'kafka.Kafka', props], { stdio: ['ignore', 'pipe', 'pipe'] });
  const remember = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 50));
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // A test run that dies must not leave a JVM behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? 60_000);
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) {
      await stop();
      throw new BrokerExitedEarly(`local Kafka broker exited with ${child.exitCode}:\n${output.join('\n')}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`local Kafka broker did not start:\n${output.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`local Kafka ${brokerVersion} broker on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { brokers: [`127.0.0.1:${port}`], source: 'local', stop };
}

async function startContainerBroker(): Promise<RunningKafka> {
  const { GenericContainer, Wait } = await import('testcontainers');
  // The broker must advertise the port clients reach, so map a free host port onto the same port inside.
  const port = await freePort();
  const container = await new GenericContainer(process.env.KAFKA_IMAGE ?? `apache/kafka:${brokerVersion}`)
    .withExposedPorts({ container: port, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://0.0.0.0:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(90_000)
    .start();
  return {
    brokers: [`localhost:${port}`],
    source: 'testcontainers',
    stop: async () => {
      await container.stop();
    },
  };
}

/** KAFKA_BROKERS, else testcontainers when Docker answers, else the local broker. */
export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<RunningKafka> {
  const fromEnv = process.env.KAFKA_BROKERS;
  if (fromEnv) {
    return { brokers: fromEnv.split(',').map((b) => b.trim()), source: 'env', stop: async () => {} };
  }
  if ((await dockerAvailable()).available) return startContainerBroker();
  return startLocalBroker(options);
}
