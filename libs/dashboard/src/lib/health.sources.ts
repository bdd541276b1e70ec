import { z } from 'zod';
import type { ServiceHealth } from './dashboard.api';
import type { HealthSource } from './building-state.service';

export interface HttpHealthTarget {
  name: string;
  /** e.g. `http://sensor-ingest.floor-1:8080/health/ready` */
  url: string;
}

/** One `name=url` entry of DASHBOARD_HEALTH_TARGETS (a comma list). Names are free text; URLs must be http(s). */
export const healthTargetSchema = z.string().transform((pair, ctx): HttpHealthTarget => {
  const at = pair.indexOf('=');
  if (at <= 0) {
    ctx.addIssue({ code: 'custom', message: `health target "${pair}" must be name=url` });
    return z.NEVER;
  }
  const name = pair.slice(0, at).trim();
  const url = pair.slice(at + 1).trim();
  if (!/^https?:\/\/\S+$/.test(url)) {
    ctx.addIssue({ code: 'custom', message: `health target "${name}": "${url}" is not an http(s) URL` });
    return z.NEVER;
  }
  return { name, url };
});

/**
 * Polls other services' terminus readiness endpoints (the ones the Helm probes use): up on 2xx,
 * down on anything else or no answer within `timeoutMs`. Targets are polled concurrently.
 */
export function httpHealthSource(targets: HttpHealthTarget[], timeoutMs = 2_000, now: () => number = Date.now): HealthSource {
  return () =>
    Promise.all(
      targets.map(async (t): Promise<ServiceHealth> => {
        const started = now();
        try {
          const res = await fetch(t.url, { signal: AbortSignal.timeout(timeoutMs) });
          await res.arrayBuffer();
          return { name: t.name, kind: 'http', up: res.ok, details: { status: res.status, ms: now() - started }, checkedAt: now() };
        } catch (err) {
          return { name: t.name, kind: 'http', up: false, details: { error: (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message }, checkedAt: now() };
        }
      }),
    );
}
