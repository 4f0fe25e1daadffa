import { describe, expect, it } from 'vitest';
import { OffsetCommits } from './offset-commits.ts';

/** A broker whose commits resolve only when the test says so. */
const slowBroker = () => {
  const calls: { partition: number; offset: string; done: () => void }[] = [];
  const commit = (partition: number, offset: string) =>
    new Promise<void>((resolve) => calls.push({ partition, offset, done: resolve }));
  return { calls, commit };
};
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('offset commits', () => {
  it('keeps one commit in flight per partition and sends only the newest offset after it', async () => {
    const broker = slowBroker();
    const commits = new OffsetCommits(broker.commit);
    commits.request(0, '5');
    commits.request(0, '6');
    commits.request(0, '9');
    commits.request(1, '3');
    expect(broker.calls.map((c) => `${c.partition}:${c.offset}`)).toEqual(['0:5', '1:3']);
    broker.calls[0]?.done();
    await turn();
    expect(broker.calls.map((c) => `${c.partition}:${c.offset}`)).toEqual(['0:5', '1:3', '0:9']);
    const flushed = commits.flush();
    let done = false;
    void flushed.then(() => {
      done = true;
    });
    await turn();
    expect(done).toBe(false); // 0:9 and 1:3 are still at the broker
    broker.calls[1]?.done();
    broker.calls[2]?.done();
    await flushed;
    expect(broker.calls).toHaveLength(3);
  });

  it('goes on after a failed commit, and a later request commits again', async () => {
    const seen: string[] = [];
    const failed: string[] = [];
    const commits = new OffsetCommits(
      async (_partition, offset) => {
        seen.push(offset);
        if (offset === '2') throw new Error('rebalance');
      },
      (error, partition, offset) => failed.push(`${partition}:${offset}:${(error as Error).message}`),
    );
    commits.request(0, '2');
    await commits.flush(0);
    commits.request(0, '4');
    await commits.flush();
    expect(seen).toEqual(['2', '4']);
    expect(failed).toEqual(['0:2:rebalance']);
  });
});
