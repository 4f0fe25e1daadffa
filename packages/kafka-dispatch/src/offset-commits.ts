// One offset commit in flight per partition; offsets asked for meanwhile collapse into the newest. A commit
// means "everything before this offset is done" and committable offsets only grow (./partition-progress.ts),
// so committing the newest covers every one skipped. Under load this turns one broker request per record
// into about one per round trip, and a record's lane no longer waits on the broker before its next record.
export type CommitOffset = (partition: number, offset: string) => Promise<void>;

export class OffsetCommits {
  private readonly waiting = new Map<number, string>();
  private readonly running = new Map<number, Promise<void>>();

  constructor(
    private readonly commitOffset: CommitOffset,
    /** A failed commit (the partition went elsewhere in a rebalance): its next owner redoes what is uncommitted. */
    private readonly onFailure: (error: unknown, partition: number, offset: string) => void = () => {},
  ) {}

  /** Commits `offset` soon: at once when the partition has no commit in flight, else right after it. */
  request(partition: number, offset: string): void {
    this.waiting.set(partition, offset);
    if (!this.running.has(partition)) this.running.set(partition, this.drain(partition));
  }

  /** Resolves when every offset asked for so far (of one partition, or of all) was committed or its failure reported. */
  async flush(partition?: number): Promise<void> {
    if (partition !== undefined) {
      for (let running = this.running.get(partition); running; running = this.running.get(partition)) await running;
      return;
    }
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async drain(partition: number): Promise<void> {
    try {
      for (let offset = this.waiting.get(partition); offset !== undefined; offset = this.waiting.get(partition)) {
        this.waiting.delete(partition);
        try {
          await this.commitOffset(partition, offset);
        } catch (error) {
          this.onFailure(error, partition, offset);
        }
      }
    } finally {
      this.running.delete(partition);
    }
  }
}
