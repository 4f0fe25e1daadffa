// Which offset of one partition may be committed. Records finish out of order (a retry waits for its
// due time while later records go ahead), but a committed offset means "everything before it is done",
// so the commit only advances over the contiguous done prefix.
export class PartitionProgress {
  private readonly inFlight: { offset: bigint; done: boolean }[] = [];

  track(offset: string) {
    this.inFlight.push({ offset: BigInt(offset), done: false });
  }

  /** Marks a record done; returns the offset to commit (next to read) when the done prefix grew. */
  complete(offset: string): string | null {
    const entry = this.inFlight.find((e) => e.offset === BigInt(offset));
    if (!entry) return null;
    entry.done = true;
    let committable: bigint | null = null;
    while (this.inFlight[0]?.done) committable = (this.inFlight.shift() as { offset: bigint }).offset + 1n;
    return committable === null ? null : committable.toString();
  }

  get pending() {
    return this.inFlight.length;
  }
}
