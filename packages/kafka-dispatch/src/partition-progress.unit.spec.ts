import { describe, expect, it } from 'vitest';
import { PartitionProgress } from './partition-progress.ts';

describe('partition progress', () => {
  it('commits only over the contiguous done prefix', () => {
    const progress = new PartitionProgress();
    for (const offset of ['5', '6', '7', '8']) progress.track(offset);
    expect(progress.complete('6')).toBeNull(); // 5 still running
    expect(progress.complete('5')).toBe('7');
    expect(progress.complete('8')).toBeNull(); // 7 (a deferred retry) still waiting
    expect(progress.complete('7')).toBe('9');
    expect(progress.pending).toBe(0);
  });

  it('ignores offsets it does not track (a record from before a rebalance)', () => {
    const progress = new PartitionProgress();
    progress.track('1');
    expect(progress.complete('0')).toBeNull();
    expect(progress.complete('1')).toBe('2');
  });

  it('stays right across many records finishing out of order (the done prefix is dropped in chunks)', () => {
    const progress = new PartitionProgress();
    for (let offset = 0; offset < 5000; offset++) progress.track(String(offset));
    // Every odd offset first, then the evens: each even completes the prefix through the next odd one.
    for (let offset = 1; offset < 5000; offset += 2) expect(progress.complete(String(offset))).toBeNull();
    for (let offset = 0; offset < 5000; offset += 2) expect(progress.complete(String(offset))).toBe(String(offset + 2));
    expect(progress.pending).toBe(0);
    progress.track('5000');
    expect(progress.complete('5000')).toBe('5001');
    expect(progress.complete('5000')).toBeNull(); // already done
  });
});
