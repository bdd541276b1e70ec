import { FAULT_TYPES, type FaultType } from './fault.injector';
import { systemClock, type RunnerClock } from './runner.clock';
import type { SimulatorMessage } from './simulator.service';
import { resolveRunnerOptions, type RunnerOptions, type RunnerOptionsInput } from './simulator.options';

/** Where the runner delivers messages (e.g. a DeviceLink's publish); awaited before the next batch. */
export type MessageSink = (messages: { topic: string; payload: string }[]) => Promise<void>;

/** What the runner pulls from: a SimulatorService, or anything with the same tick contract. */
export interface TickSource {
  nextTick(): SimulatorMessage[];
  readonly sampleIntervalMs: number;
  /** True when the source has nothing more to send (end of a replay). */
  readonly finished: boolean;
}

export type RunnerState = 'idle' | 'running' | 'stopping' | 'stopped';
export type StopReason = 'count' | 'duration' | 'finished' | 'stopped' | 'error';

export interface RunnerStats {
  state: RunnerState;
  published: number;
  batches: number;
  ticks: number;
  /** Published messages per fault that shaped them. */
  byFault: Record<FaultType, number>;
  /** Real ms since start. */
  elapsedMs: number;
  stopReason?: StopReason;
  error?: string;
}

/**
 * Loop turns without a timer wait (e.g. empty ticks of a replay gap at speed 0, or a sink that
 * resolves at once while the rate cap has no time to wait) before the loop yields to the event
 * loop, so timers, I/O and signals are never starved.
 */
const TURNS_BEFORE_YIELD = 1000;

/**
 * Publishes a source's messages to a sink with two kinds of pacing, whichever is slower:
 * the simulated clock (`speed`: tick k is due `k × sampleIntervalMs / speed` real ms after the
 * start) and the rate cap (`ratePerSec`, spacing without bursts). The sink is awaited, so a slow
 * broker slows the simulator rather than filling memory. Stops at `count` messages, after
 * `durationMs` of real time, when the source finishes, or on `stop()`.
 */
export class SimulatorRunner {
  readonly options: RunnerOptions;
  private state: RunnerState = 'idle';
  private published = 0;
  private batches = 0;
  private ticks = 0;
  private byFault = Object.fromEntries(FAULT_TYPES.map((t) => [t, 0])) as Record<FaultType, number>;
  private startedAt = 0;
  private stoppedAt: number | undefined;
  private stopReason: StopReason | undefined;
  private error: string | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<RunnerStats> | undefined;
  private turnsSinceWait = 0;

  constructor(
    private readonly source: TickSource,
    private readonly sink: MessageSink,
    options: RunnerOptionsInput = {},
    private readonly clock: RunnerClock = systemClock,
  ) {
    this.options = resolveRunnerOptions(options);
  }

  get running(): boolean {
    return this.state === 'running' || this.state === 'stopping';
  }

  /** Starts publishing; the promise settles when the run ends (rejects if the sink throws). */
  start(): Promise<RunnerStats> {
    if (this.loop) throw new Error('SimulatorRunner.start() may be called once');
    this.state = 'running';
    this.startedAt = this.clock.now();
    this.loop = this.run();
    return this.loop;
  }

  /** Ends the run after the batch in flight; resolves with the final stats. */
  async stop(): Promise<RunnerStats> {
    if (!this.loop) {
      this.state = 'stopped';
      this.stopReason = 'stopped';
      return this.stats();
    }
    if (this.state === 'running') this.state = 'stopping';
    this.stopReason ??= 'stopped';
    this.abort.abort();
    return this.loop.catch(() => this.stats());
  }

  stats(): RunnerStats {
    const s: RunnerStats = {
      state: this.state,
      published: this.published,
      batches: this.batches,
      ticks: this.ticks,
      byFault: { ...this.byFault },
      elapsedMs: this.loop ? (this.stoppedAt ?? this.clock.now()) - this.startedAt : 0,
    };
    if (this.stopReason) s.stopReason = this.stopReason;
    if (this.error) s.error = this.error;
    return s;
  }

  private remainingMs(): number {
    const { durationMs } = this.options;
    return durationMs === undefined ? Number.POSITIVE_INFINITY : this.startedAt + durationMs - this.clock.now();
  }

  /** Sleeps until `at` (real ms), never past the duration bound; false when the run must end. */
  private async waitUntil(at: number): Promise<boolean> {
    const wait = Math.min(at - this.clock.now(), this.remainingMs());
    if (wait > 0) {
      await this.clock.sleep(wait, this.abort.signal);
      this.turnsSinceWait = 0;
    }
    return this.shouldContinue();
  }

  private async yieldSometimes(): Promise<void> {
    if (++this.turnsSinceWait < TURNS_BEFORE_YIELD) return;
    this.turnsSinceWait = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private shouldContinue(): boolean {
    if (this.state !== 'running') return false;
    if (this.options.count !== undefined && this.published >= this.options.count) return this.end('count');
    if (this.remainingMs() <= 0) return this.end('duration');
    return true;
  }

  private end(reason: StopReason): false {
    this.stopReason ??= reason;
    return false;
  }

  private async run(): Promise<RunnerStats> {
    const { ratePerSec, speed, maxBatchSize, count } = this.options;
    const tickRealMs = speed > 0 ? this.source.sampleIntervalMs / speed : 0;
    const messageRealMs = 1000 / ratePerSec;
    // a batch holds at most ~100 ms worth of the rate, so pacing stays smooth at low rates
    const batchLimit = Math.max(1, Math.min(maxBatchSize, Math.ceil(ratePerSec / 10)));
    let nextSendAt = this.startedAt;
    let pending: SimulatorMessage[] = [];
    try {
      for (;;) {
        await this.yieldSometimes();
        if (!this.shouldContinue()) break;
        if (pending.length === 0) {
          if (this.source.finished) {
            this.end('finished');
            break;
          }
          if (tickRealMs > 0 && !(await this.waitUntil(this.startedAt + this.ticks * tickRealMs))) break;
          pending = this.source.nextTick();
          this.ticks++;
          if (pending.length === 0) continue;
        }
        const room = count === undefined ? batchLimit : Math.min(batchLimit, count - this.published);
        const batch = pending.splice(0, room);
        const sentAt = this.clock.now();
        await this.sink(batch);
        this.published += batch.length;
        this.batches++;
        for (const m of batch) for (const f of m.faults) this.byFault[f]++;
        // rate cap: the next batch may start once this one's share of the rate has elapsed;
        // time lost to a slow sink is not made up with a burst afterwards
        nextSendAt = Math.max(nextSendAt, sentAt) + batch.length * messageRealMs;
        if (!(await this.waitUntil(nextSendAt))) break;
      }
    } catch (err) {
      this.stopReason = 'error';
      this.error = err instanceof Error ? err.message : String(err);
      this.finish();
      throw err;
    }
    this.finish();
    return this.stats();
  }

  private finish(): void {
    this.state = 'stopped';
    this.stoppedAt = this.clock.now();
  }
}
