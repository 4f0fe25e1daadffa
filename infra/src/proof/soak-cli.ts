// bin/soak [--seconds 600] [--rate 60] [--no-kills] [--secure] [--no-provider-idempotency] [--log-file path]: see soak.ts.
import { runSoak, soakHolds } from './soak.ts';

const argv = process.argv.slice(2);
const value = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? (argv[i + 1] as string) : fallback;
};
const say = (line: string) => process.stderr.write(`${line}\n`);

try {
  const result = await runSoak({
    seconds: Number(value('seconds', '600')),
    rate: Number(value('rate', '60')),
    secure: argv.includes('--secure'),
    kills: !argv.includes('--no-kills'),
    providerIdempotency: !argv.includes('--no-provider-idempotency'),
    logFile: argv.includes('--log-file') ? value('log-file', '') : undefined,
    say,
  });
  say(
    `requests ${result.requests} (${result.retriedRequests} retries, ${result.duplicatesSent} deliberate duplicates); accepted ${result.accepted}: ${result.sends} sends, ${result.inbound} inbound`,
  );
  say(`kills ${JSON.stringify(result.killsBy)}; slowest 503 answer ${result.max503Ms} ms`);
  say(
    `lost ${result.lost}, stuck ${result.stuck}, double-sent ${result.doubleSent}, sent+failed ${result.conflictingOutcomes}, delivered without MessageSent ${result.receiptWithoutSent}, provider duplicates ${result.providerDuplicates} (repeats under the same key: ${result.providerRepeats}), read-model drift ${result.readModelDrift}`,
  );
  say('RSS MB (after warm-up → end):');
  for (const [name, r] of Object.entries(result.rssMb))
    say(
      `  ${name.padEnd(16)} ${String(r.warm).padStart(5)} → ${String(r.end).padStart(5)}${r.restarted ? '  (killed and restarted meanwhile)' : ''}`,
    );
  const { secrets: _s, addresses: _a, ...printed } = result;
  process.stdout.write(`${JSON.stringify(printed)}\n`);
  process.exit(soakHolds(result) ? 0 : 1);
} catch (error) {
  say(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(3);
}
