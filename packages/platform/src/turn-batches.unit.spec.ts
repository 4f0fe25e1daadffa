import { describe, expect, it } from 'vitest';
import { batchPerTurn } from './turn-batches.ts';

describe('batchPerTurn', () => {
  it('runs the requests of one turn as one batch; a shared key gets the same answer', async () => {
    const batches: string[][] = [];
    const ask = batchPerTurn<string, string>({
      run: async (keys) => {
        batches.push(keys);
        return (key) => `answer ${key}`;
      },
      key: (key) => key,
      sameKey: 'share',
    });
    const answers = await Promise.all(['a', 'b', 'a'].map(ask));
    expect(answers).toEqual(['answer a', 'answer b', 'answer a']);
    expect(batches).toEqual([['a', 'b']]);
  });

  it("with sameKey 'next', a repeated key waits for the next batch; maxBatch splits the rest", async () => {
    const batches: number[][] = [];
    const ask = batchPerTurn<{ id: string; n: number }, number>({
      run: async (requests) => {
        batches.push(requests.map((r) => r.n));
        return (request) => request.n * 10;
      },
      key: (request) => request.id,
      sameKey: 'next',
      maxInFlight: 1,
      maxBatch: 2,
    });
    const requests = [
      { id: 'x', n: 1 },
      { id: 'x', n: 2 },
      { id: 'y', n: 3 },
      { id: 'z', n: 4 },
    ];
    expect(await Promise.all(requests.map(ask))).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  it('rejects every request of a failed batch, and later batches still run', async () => {
    let fail = true;
    const ask = batchPerTurn<string, string>({
      run: async (keys) => {
        if (fail) throw new Error(`refused ${keys.join(',')}`);
        return (key) => key;
      },
      key: (key) => key,
      sameKey: 'share',
    });
    await expect(Promise.all([ask('a'), ask('b')])).rejects.toThrow('refused a,b');
    fail = false;
    await expect(ask('c')).resolves.toBe('c');
  });
});
