import { describe, expect, it } from 'vitest';
import { holdUpcomingSends, type UpcomingSend } from './upcoming-sends.ts';

const send = (messageId: string, dueAtMs: number): UpcomingSend => ({ messageId, dueAtMs, leasedUntil: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('upcoming sends', () => {
  it('releases each send at its due time, in due order, never before it', async () => {
    const released: Array<{ id: string; late: number }> = [];
    const upcoming = holdUpcomingSends({
      now: Date.now,
      onDue: (sends) => {
        for (const s of sends) released.push({ id: s.messageId, late: Date.now() - s.dueAtMs });
      },
    });
    const t = Date.now();
    upcoming.hold([send('b', t + 120), send('c', t + 200)]);
    upcoming.hold([send('a', t + 40), send('due-now', t - 5)]);
    expect(upcoming.size).toBe(4);
    await sleep(80);
    expect(released.map((r) => r.id)).toEqual(['due-now', 'a']);
    await sleep(200);
    expect(released.map((r) => r.id)).toEqual(['due-now', 'a', 'b', 'c']);
    expect(Math.min(...released.map((r) => r.late))).toBeGreaterThanOrEqual(0);
    expect(upcoming.size).toBe(0);
  });

  it('starts the sends due within one tick together, none before its due time', async () => {
    const batches: Array<{ ids: string[]; at: number }> = [];
    const upcoming = holdUpcomingSends({
      now: Date.now,
      tickMs: 50,
      onDue: (sends) => batches.push({ ids: sends.map((s) => s.messageId), at: Date.now() }),
    });
    const boundary = Math.ceil((Date.now() + 60) / 50) * 50;
    upcoming.hold([send('p', boundary + 5), send('q', boundary + 30), send('r', boundary + 55)]);
    await sleep(boundary + 150 - Date.now());
    expect(batches.map((b) => b.ids)).toEqual([['p', 'q'], ['r']]);
    expect(batches[0]!.at).toBeGreaterThanOrEqual(boundary + 30);
    expect(batches[1]!.at).toBeGreaterThanOrEqual(boundary + 55);
  });

  it('hands back what it holds on drain and fires nothing after', async () => {
    const released: string[] = [];
    const upcoming = holdUpcomingSends({ now: Date.now, onDue: (s) => released.push(...s.map((x) => x.messageId)) });
    upcoming.hold([send('x', Date.now() + 30)]);
    expect(upcoming.drain().map((s) => s.messageId)).toEqual(['x']);
    await sleep(60);
    expect(released).toEqual([]);
  });

  it('re-arms when a timer fires before the due time (never early)', async () => {
    let clock = 1000;
    const released: string[] = [];
    const upcoming = holdUpcomingSends({ now: () => clock, onDue: (s) => released.push(...s.map((x) => x.messageId)) });
    upcoming.hold([send('y', 1010)]); // on a tick boundary: armed for 10 ms
    await sleep(30); // the timer fired, but this clock says 1000: not due
    expect(released).toEqual([]);
    clock = 1010;
    await sleep(30);
    expect(released).toEqual(['y']);
  });
});
