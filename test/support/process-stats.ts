import { readFileSync, readdirSync } from 'node:fs';

/** Resident set size of a process in bytes (VmRSS from /proc), or undefined if it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (sockets, files, pipes). */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/**
 * Samples named values every `intervalMs` (bounded: stops itself after `maxSamples`) and keeps
 * every sample, so a test can assert a peak and print the series.
 */
export class Sampler<K extends string> {
  readonly samples: Array<{ t: number } & Partial<Record<K, number>>> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();

  constructor(
    private readonly probes: Record<K, () => number | undefined | Promise<number | undefined>>,
    intervalMs = 1000,
    maxSamples = 3600,
  ) {
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      if (this.samples.length >= maxSamples) return this.stop();
      busy = true;
      void this.sample().finally(() => (busy = false));
    }, intervalMs);
  }

  async sample(): Promise<void> {
    const s: { t: number } & Partial<Record<K, number>> = { t: Date.now() - this.started } as { t: number } & Partial<Record<K, number>>;
    for (const [k, probe] of Object.entries(this.probes) as Array<[K, () => number | undefined | Promise<number | undefined>]>) {
      try {
        const v = await probe();
        if (v !== undefined && Number.isFinite(v)) (s as Record<K, number>)[k] = v;
      } catch {
        /* a probe that fails this time (endpoint restarting) leaves a gap */
      }
    }
    this.samples.push(s);
  }

  max(k: K, from = 0, to = Number.POSITIVE_INFINITY): number {
    let m = Number.NEGATIVE_INFINITY;
    for (const s of this.samples) if (s.t >= from && s.t <= to && s[k] !== undefined) m = Math.max(m, s[k] as number);
    return m;
  }

  last(k: K): number | undefined {
    for (let i = this.samples.length - 1; i >= 0; i--) if (this.samples[i]![k] !== undefined) return this.samples[i]![k] as number;
    return undefined;
  }

  /** Milliseconds since the sampler started. */
  now(): number {
    return Date.now() - this.started;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
