/** A readiness/liveness probe: `up` plus optional details shown on the health endpoint. */
export interface ProbeResult {
  up: boolean;
  details?: Record<string, string | number | boolean>;
}
export type Probe = () => ProbeResult;

/**
 * Named probes that the health endpoints evaluate. Readiness reflects broker connections and
 * model availability, so Kubernetes stops routing to a pod that cannot do its work.
 */
export class ProbeRegistry {
  private readonly readiness = new Map<string, Probe>();
  private readonly liveness = new Map<string, Probe>();

  addReadiness(name: string, probe: Probe): void {
    this.readiness.set(name, probe);
  }

  addLiveness(name: string, probe: Probe): void {
    this.liveness.set(name, probe);
  }

  evaluateReadiness(): Record<string, ProbeResult> {
    return evaluate(this.readiness);
  }

  evaluateLiveness(): Record<string, ProbeResult> {
    return evaluate(this.liveness);
  }
}

function evaluate(probes: Map<string, Probe>): Record<string, ProbeResult> {
  const out: Record<string, ProbeResult> = {};
  for (const [name, probe] of probes) {
    try {
      out[name] = probe();
    } catch (err) {
      out[name] = { up: false, details: { error: (err as Error).message } };
    }
  }
  return out;
}

export const PROBES = Symbol.for('aiot.ProbeRegistry');
export const METRICS = Symbol.for('aiot.Metrics');
