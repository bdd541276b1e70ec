import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram };

/**
 * The metrics of one feature, defined by the library that owns the feature (`bridge.metrics.ts`,
 * `history.metrics.ts`, …) and created in a process' registry once, on first use.
 */
export interface MetricSet<T> {
  readonly feature: string;
  create(registers: Registry[]): T;
}

/** A feature's metrics; `create` registers them in the registers it is given. */
export function defineMetrics<T>(feature: string, create: (registers: Registry[]) => T): MetricSet<T> {
  return { feature, create };
}

/** The metrics object a {@link MetricSet} creates. */
export type MetricsOf<S> = S extends MetricSet<infer T> ? T : never;

/**
 * The process' Prometheus registry, named per the Prometheus naming conventions (`aiot_`
 * namespace, base units, `_total` for counters). One per process; services receive it through DI
 * so edge-local can host all of them in one registry. Each feature's metrics live with the feature
 * and are registered here by {@link AiotMetrics.of}; only the metrics several features record
 * (DLQ records, broker connections) are defined here.
 */
export class AiotMetrics {
  readonly registry: Registry;
  /** Records sent to a dead-letter topic: every stage (bridge, ingest, analytics, inference) counts its own. */
  readonly dlqMessages: Counter<'stage' | 'floor' | 'reason'>;
  /** Broker connections of every service (mqtt, kafka, postgres). */
  readonly brokerConnected: Gauge<'broker'>;
  private readonly sets = new Map<MetricSet<unknown>, unknown>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.dlqMessages = new Counter({
      name: 'aiot_dlq_messages_total',
      help: 'Records sent to a dead-letter topic, by stage, floor and reason code.',
      labelNames: ['stage', 'floor', 'reason'],
      registers,
    });
    this.brokerConnected = new Gauge({
      name: 'aiot_broker_connected',
      help: '1 when the service is connected to the broker (mqtt, kafka), else 0.',
      labelNames: ['broker'],
      registers,
    });
  }

  /** The feature's metrics in this registry, created on the first call and the same object after. */
  of<T>(set: MetricSet<T>): T {
    let metrics = this.sets.get(set) as T | undefined;
    if (metrics === undefined) {
      metrics = set.create([this.registry]);
      this.sets.set(set, metrics);
    }
    return metrics;
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
