// The shape of every scenario's result (the LAST stdout line of `bin/bench <scenario>`), in one place:
// printResult validates against it before printing, `bin/bench all` and the CI smoke parse with it.
// Objects are loose (extra fields pass) so a scenario may report more; a missing or mistyped field fails.
import { z } from 'zod';

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
const rate = z.number().nonnegative();

export const appendResultSchema = z.looseObject({
  scenario: z.literal('append'),
  store: z.string(),
  eventsPerSec: rate,
  p50Ms: ms,
  p99Ms: ms,
  writers: count,
  seconds: z.number().positive(),
  errors: count,
});

export const sendResultSchema = z.looseObject({
  scenario: z.literal('send'),
  requestsPerSec: rate,
  p50Ms: ms,
  p99Ms: ms,
  errors: count,
  connections: count,
  seconds: z.number().positive(),
});

export const e2eResultSchema = z.looseObject({
  scenario: z.literal('e2e'),
  /** Median of the per-second delivered counts in the steady window (the offered load minus its edges). */
  sustainedPerSec: rate,
  /** Delivered ÷ (last delivery − first accept): drags in the stragglers, kept for comparison with old runs. */
  messagesPerSec: rate,
  p50Ms: ms,
  p99Ms: ms,
  maxMs: ms,
  /** Accepted, not yet at the provider when the drain ended (a backlog). */
  undeliveredAtDrain: count,
  /** Accepted and still not at the provider after waiting the dispatcher out (a loss). */
  lost: count,
  /** True when the wait ended because nothing was left to deliver; false when its timeout ended it. */
  settled: z.boolean(),
  offeredPerSec: rate,
  seconds: z.number().positive(),
  offeredSeconds: z.number().nonnegative(),
  accepted: count,
  failedAccepts: count,
  via: z.enum(['http', 'log']),
  transport: z.enum(['log', 'kafka']),
});

export const projectResultSchema = z.looseObject({
  scenario: z.literal('project'),
  eventsPerSec: rate,
  seconds: ms,
  events: count,
  /** CPU per projected event: the projector's process and PostgreSQL (null: an external server). */
  cpuPerEventUs: z.object({ projector: ms, postgres: ms.nullable() }),
});

export const projectLagResultSchema = z.looseObject({
  scenario: z.literal('project-lag'),
  appendsPerSec: rate,
  lagP50Ms: ms,
  lagP99Ms: ms,
  lagMaxMs: ms,
  writers: count,
  seconds: z.number().positive(),
});

export const scheduleResultSchema = z.looseObject({
  scenario: z.literal('schedule'),
  offeredDuePerSec: rate,
  seconds: z.number().positive(),
  scheduled: count,
  taken: count,
  sent: count,
  early: count,
  onTime: count,
  onTimeShare: z.number().min(0).max(1),
  onTimePerSec: rate,
  takenP50Ms: z.number(),
  takenP99Ms: z.number(),
  takenMaxMs: z.number().nullable(),
  sentP50Ms: z.number(),
  sentP99Ms: z.number(),
});

export const queryResultSchema = z.looseObject({
  scenario: z.literal('query'),
  requestsPerSec: rate,
  p50Ms: ms,
  p99Ms: ms,
  serverCpuUsPerRequest: rate,
  errors: count,
  connections: count,
  seconds: z.number().positive(),
});

export const streamResultSchema = z.looseObject({
  scenario: z.literal('stream'),
  clients: count,
  connected: count,
  ratePerSec: rate,
  seconds: z.number().positive(),
  sendP99MsWithoutStreams: ms,
  sendP99MsWithStreams: ms,
  sendP50MsWithoutStreams: ms,
  sendP50MsWithStreams: ms,
  sendErrors: count,
  acceptedWithStreams: count,
  serverCpuSWithoutStreams: ms,
  serverCpuSWithStreams: ms,
  deliveredEvents: count,
  deliveryLagP50Ms: z.number(),
  deliveryLagP99Ms: z.number(),
  deliveryLagMaxMs: z.number(),
  streamsEndedEarly: count,
});

export const notifyResultSchema = z.looseObject({
  scenario: z.literal('notify'),
  rate: rate,
  seconds: z.number().positive(),
  events: count,
  endpoints: count,
  deliveredPerSec: rate,
  healthyP50Ms: z.number(),
  healthyP99Ms: z.number(),
  flakyP99Ms: z.number(),
  slowDelivered: count,
  slowBacklog: count,
  lost: count,
  badSignatures: count,
});

/** One line of ../shared/peers (emmett-append.mjs, pg-floor.mjs, pg-floor.mjs --batch). */
export const peerLineSchema = z.looseObject({
  scenario: z.enum(['append', 'append-floor-single', 'append-floor-group']),
  store: z.string(),
  eventsPerSec: rate,
  p50Ms: ms.nullable(),
  p99Ms: ms.nullable(),
  writers: count,
  seconds: z.number().positive(),
  errors: count,
});
const peerFigure = z.object({ eventsPerSec: rate, p99Ms: ms.nullable(), store: z.string() });

/** `bin/bench peers` prints three JSON lines; this is them gathered into one result. */
export const peersResultSchema = z.object({
  scenario: z.literal('peers'),
  groupCommitFloor: peerFigure,
  singleCommitFloor: peerFigure,
  emmett: peerFigure,
});

export const scenarioResultSchemas = {
  append: appendResultSchema,
  send: sendResultSchema,
  e2e: e2eResultSchema,
  project: projectResultSchema,
  'project-lag': projectLagResultSchema,
  schedule: scheduleResultSchema,
  query: queryResultSchema,
  stream: streamResultSchema,
  notify: notifyResultSchema,
  peers: peersResultSchema,
} as const;

export type Scenario = keyof typeof scenarioResultSchemas;
export const scenarios = Object.keys(scenarioResultSchemas) as Scenario[];
export type ScenarioResult<S extends Scenario = Scenario> = z.infer<(typeof scenarioResultSchemas)[S]>;

export const scenarioResultSchema = z.discriminatedUnion('scenario', [
  appendResultSchema,
  sendResultSchema,
  e2eResultSchema,
  projectResultSchema,
  projectLagResultSchema,
  scheduleResultSchema,
  queryResultSchema,
  streamResultSchema,
  notifyResultSchema,
  peersResultSchema,
]);

const lastJsonLine = (stdout: string) => {
  const line = stdout.trim().split('\n').at(-1);
  if (!line) throw new Error('the scenario printed nothing on stdout');
  return JSON.parse(line) as unknown;
};

/** A scenario's stdout → its validated result (peers: its three lines gathered). Throws when off-shape. */
export function parseScenarioOutput<S extends Scenario>(scenario: S, stdout: string): ScenarioResult<S> {
  if (scenario === 'peers') return parsePeersOutput(stdout) as ScenarioResult<S>;
  return scenarioResultSchemas[scenario].parse(lastJsonLine(stdout)) as ScenarioResult<S>;
}

export function parsePeersOutput(stdout: string): ScenarioResult<'peers'> {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => peerLineSchema.parse(JSON.parse(l)));
  const pick = (scenario: z.infer<typeof peerLineSchema>['scenario']) => {
    const line = lines.find((l) => l.scenario === scenario);
    if (!line) throw new Error(`bin/bench peers printed no ${scenario} line`);
    return { eventsPerSec: line.eventsPerSec, p99Ms: line.p99Ms, store: line.store };
  };
  return peersResultSchema.parse({
    scenario: 'peers',
    groupCommitFloor: pick('append-floor-group'),
    singleCommitFloor: pick('append-floor-single'),
    emmett: pick('append'),
  });
}
