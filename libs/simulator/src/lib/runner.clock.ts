import { setTimeout as delay } from 'node:timers/promises';

/** Real time for the runner; tests pass a virtual one. */
export interface RunnerClock {
  /** ms, monotonic. */
  now(): number;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: RunnerClock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    if (signal.aborted) return;
    try {
      await delay(Math.max(0, ms), undefined, { signal });
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  },
};

/** A clock whose sleeps advance time instantly (deterministic tests of pacing). */
export class VirtualClock implements RunnerClock {
  private t: number;
  readonly sleeps: number[] = [];

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
    await Promise.resolve();
  }

  /** Moves time forward, e.g. to model a slow sink. */
  advance(ms: number): void {
    this.t += ms;
  }
}
