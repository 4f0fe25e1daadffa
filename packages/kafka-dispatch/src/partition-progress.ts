// Which offset of one partition may be committed. Records finish out of order (a retry waits for its
// due time while later records go ahead), but a committed offset means "everything before it is done",
// so the commit only advances over the contiguous done prefix.
export class PartitionProgress {
  /** Tracked records in offset order from `head` on; `byOffset` finds one without a scan. */
  private readonly inFlight: { offset: bigint; done: boolean }[] = [];
  private readonly byOffset = new Map<string, { offset: bigint; done: boolean }>();
  private head = 0;

  track(offset: string) {
    const entry = { offset: BigInt(offset), done: false };
    this.inFlight.push(entry);
    this.byOffset.set(offset, entry);
  }

  /** Marks a record done; returns the offset to commit (next to read) when the done prefix grew. */
  complete(offset: string): string | null {
    const entry = this.byOffset.get(offset);
    if (!entry) return null;
    entry.done = true;
    this.byOffset.delete(offset);
    let committable: bigint | null = null;
    while (this.inFlight[this.head]?.done) committable = (this.inFlight[this.head++] as { offset: bigint }).offset + 1n;
    // Drop the done prefix now and then, not on every record (a shift per record is a copy per record).
    if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head);
      this.head = 0;
    }
    return committable === null ? null : committable.toString();
  }

  get pending() {
    return this.inFlight.length - this.head;
  }
}
