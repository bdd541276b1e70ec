import {
  HEADER_MQTT_TOPIC,
  buildDlqRecord,
  kafkaTopic,
  parseMqttTelemetryTopic,
  parseReadingPayload,
  type ContractError,
  floorGroupId,
  type MetricPolicy,
  SensorCatalog,
} from '@aiot/contracts';
import type { EventBus, IncomingRecord, OutgoingRecord, Subscription } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { restoreDeduplicator, type DedupRestoreOptions } from './dedup.restore';
import { Deduplicator, type DeduplicatorOptions } from './deduplicator';
import type { DeviceRegistry } from './device-registry';
import { ingestMetrics, type IngestMetrics } from './ingest.metrics';
import { normalizeReading, type DroppedMetric, type NormalizedReading } from './reading.normalizer';

export interface IngestOptions {
  floor: string;
  registry: DeviceRegistry;
  requireRegistered?: boolean;
  /** Metric kinds, units and ranges (default: the repository's default catalog). */
  catalog?: SensorCatalog;
  /** What a metric ingest cannot accept does to its reading (default `drop`: it alone is left out). */
  metricPolicy?: MetricPolicy;
  dedup?: DeduplicatorOptions;
  /**
   * De-duplication state to start from, e.g. rebuilt from the clean topic's tail after a restart
   * ({@link restoreDeduplicator}); a fresh one from `dedup` when absent.
   */
  deduplicator?: Deduplicator;
  /**
   * Rebuild the de-duplication state from the clean topic's tail in `start()`, before consuming:
   * a restarted ingest then drops what it wrote but had not committed before it stopped.
   */
  restore?: DedupRestoreOptions;
  /** Consumer group; one per floor so floors scale and fail independently. */
  groupId?: string;
  /**
   * Subscribe in `start()` (default). False when an event-bus transport feeds {@link
   * IngestService.handleBatch} from an `@EventPattern` handler instead.
   */
  consume?: boolean;
}

/** The `kind` label of a dropped metric the catalog does not list. */
export const UNKNOWN_KIND_LABEL = '_unknown';

export interface IngestCounts {
  received: number;
  clean: number;
  duplicate: number;
  /** Whole records refused (one DLQ record each). */
  dlq: number;
  dlqByReason: Record<string, number>;
  /** Metrics left out of readings that went on clean (one DLQ record each), by `<kind>:<reason>`. */
  droppedMetrics: number;
  droppedByKind: Record<string, number>;
}

/**
 * sensor-ingest for one floor: `aiot.<floor>.telemetry.raw` → validate, normalise, de-duplicate,
 * enrich → `telemetry.clean`, or `telemetry.dlq` with the original payload and a reason.
 * One batch in, one batch out, then the input offsets are committed (by the bus).
 */
export class IngestService {
  readonly counts: IngestCounts = { received: 0, clean: 0, duplicate: 0, dlq: 0, dlqByReason: {}, droppedMetrics: 0, droppedByKind: {} };
  private dedup: Deduplicator;
  private readonly catalog: SensorCatalog;
  private readonly rawTopic: string;
  private readonly cleanTopic: string;
  private readonly dlqTopic: string;
  private subscription: Subscription | undefined;
  private readonly m: IngestMetrics | undefined;
  /**
   * A produce request that failed may still have been written: a broker that dies after appending
   * but before acknowledging (or a request timeout) leaves the outcome unknown. Until the clean
   * topic's tail has been read back, the redelivered batch could be written twice.
   */
  private outputUncertain = false;

  constructor(
    private readonly bus: EventBus,
    private readonly options: IngestOptions,
    private readonly metrics?: AiotMetrics,
    private readonly logger: Logger = silentLogger,
  ) {
    this.m = metrics?.of(ingestMetrics);
    this.dedup = options.deduplicator ?? new Deduplicator(options.dedup);
    this.catalog = options.catalog ?? SensorCatalog.default();
    this.rawTopic = kafkaTopic(options.floor, 'telemetry.raw');
    this.cleanTopic = kafkaTopic(options.floor, 'telemetry.clean');
    this.dlqTopic = kafkaTopic(options.floor, 'telemetry.dlq');
  }

  /** `<floor>.` prefix: the floor identity's group ACL covers it (and the tail reader's group). */
  private get groupId(): string {
    return this.options.groupId ?? floorGroupId(this.options.floor, 'sensor-ingest');
  }

  get floor(): string {
    return this.options.floor;
  }

  async start(): Promise<void> {
    await this.bus.ensureTopics([this.rawTopic, this.cleanTopic, this.dlqTopic]);
    if (this.options.restore) await this.restoreDedup(this.options.restore, 'info', 'de-duplication state restored from the clean topic');
    if (this.options.consume === false) {
      this.logger.info({ registryDevices: this.options.registry.size }, 'ingest started (fed by the event-bus transport)');
      return;
    }
    this.subscription = await this.bus.subscribe({
      // `<floor>.` prefix: the floor identity's group ACL covers it.
      groupId: this.groupId,
      topics: [this.rawTopic],
      handler: (batch) => this.handleBatch(batch),
    });
    // `floor` comes from the caller's logger bindings (one per floor), so it is not repeated here.
    this.logger.info({ registryDevices: this.options.registry.size }, 'ingest started');
  }

  /**
   * Rebuilds de-duplication from the clean topic's tail: at start, and after a failed publish, so
   * the redelivered batch's readings that did land are recognised as duplicates. If the tail cannot
   * be read yet (the broker still down), this throws and the batch is retried later.
   */
  private async restoreDedup(restore: DedupRestoreOptions, level: 'info' | 'warn', message: string): Promise<void> {
    const started = Date.now();
    // The tail reader's group shares the consumer group's prefix, which the floor's ACL allows.
    const restored = await restoreDeduplicator(this.bus, this.cleanTopic, this.options.dedup, { groupPrefix: this.groupId, ...restore });
    this.dedup = restored.deduplicator;
    this.outputUncertain = false;
    this.logger[level]({ records: restored.records, skipped: restored.skipped, devices: restored.deduplicator.deviceCount, ms: Date.now() - started }, message);
  }

  /** Finishes the batch in progress (its output written, its offsets committed), then stops. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  async handleBatch(batch: IncomingRecord[]): Promise<void> {
    if (this.outputUncertain && this.options.restore) {
      await this.restoreDedup(this.options.restore, 'warn', 'a publish failed: de-duplication state re-read from the clean topic before the retry');
    }
    const now = Date.now();
    const floor = this.options.floor;
    const out: OutgoingRecord[] = [];
    const dedupBatch = this.dedup.begin();
    let clean = 0;
    let duplicate = 0;
    const rejects: ContractError[] = [];
    const drops: DroppedMetric[] = [];
    const deadLetter = (record: IncomingRecord, error: ContractError, mqttTopic: string | undefined, metric?: string) => {
      const dlq = buildDlqRecord(
        { stage: 'ingest', sourceTopic: record.topic, floor, payload: record.value, ...(mqttTopic ? { mqttTopic } : {}), ...(record.key ? { key: record.key } : {}) },
        error,
        now,
      );
      if (metric !== undefined) dlq.metric = metric;
      out.push({ topic: this.dlqTopic, key: record.key ?? '', value: JSON.stringify(dlq) });
    };
    const reject = (record: IncomingRecord, error: ContractError, mqttTopic: string | undefined) => {
      rejects.push(error);
      deadLetter(record, error, mqttTopic);
      this.logger.debug({ deviceId: record.key, reason: error.reason, detail: error.message }, 'reading rejected');
    };

    for (const record of batch) {
      const mqttTopic = record.headers[HEADER_MQTT_TOPIC];
      const address = mqttTopic === undefined ? undefined : parseMqttTelemetryTopic(mqttTopic);
      if (!address || !address.ok) {
        reject(record, address?.error ?? { reason: 'invalid_topic', message: 'record has no MQTT topic header' }, mqttTopic);
        continue;
      }
      if (address.value.floor !== floor) {
        reject(record, { reason: 'floor_mismatch', message: `topic floor ${address.value.floor} on ${floor}'s raw topic` }, mqttTopic);
        continue;
      }
      const parsed = parseReadingPayload(record.value.toString('utf8'), { fallbackDeviceId: address.value.deviceId, nowMs: now });
      if (!parsed.ok) {
        reject(record, parsed.error, mqttTopic);
        continue;
      }
      const policy = this.options.metricPolicy ?? 'drop';
      const normalized: NormalizedReading[] = [];
      const failed: ContractError[] = [];
      for (const reading of parsed.value) {
        const n = normalizeReading(reading, {
          address: address.value,
          registry: this.options.registry,
          requireRegistered: this.options.requireRegistered ?? false,
          catalog: this.catalog,
          policy,
          nowMs: now,
        });
        if (n.ok) normalized.push(n.value);
        else failed.push(n.error);
      }
      // A record is refused whole when nothing in it is accepted, or under `reject` when anything
      // is refused; otherwise what was refused (a metric, or a SenML time with none left) is
      // dead-lettered beside the clean readings.
      if (failed.length > 0 && (normalized.length === 0 || policy === 'reject')) {
        reject(record, failed[0]!, mqttTopic);
        continue;
      }
      const recordDrops = [
        ...failed.map((error) => ({ metric: error.path?.startsWith('metrics.') ? error.path.slice('metrics.'.length) : '', error })),
        ...normalized.flatMap((n) => n.dropped),
      ];
      for (const drop of recordDrops) {
        drops.push(drop);
        deadLetter(record, drop.error, mqttTopic, drop.metric || undefined);
      }
      for (const { reading } of normalized) {
        if (!dedupBatch.accept(reading.deviceId, reading.seq)) {
          duplicate++;
          continue;
        }
        clean++;
        out.push({ topic: this.cleanTopic, key: reading.deviceId, value: JSON.stringify(reading) });
      }
    }

    // Clean and DLQ records in one produce request, acknowledged before the batch commits; emit()
    // is per topic and would split it (libs/messaging README: publishing).
    try {
      await this.bus.publish(out);
    } catch (err) {
      // With a restore source, the retry first learns what actually landed (restoreDedup);
      // without one (edge-local's in-process bus: a publish fails whole) the retry writes it all.
      this.outputUncertain = this.options.restore !== undefined;
      throw err;
    }
    // Only now, with the output acknowledged, do these readings count as seen.
    dedupBatch.commit();
    this.count(batch.length, clean, duplicate, rejects, drops);
  }

  private count(received: number, clean: number, duplicate: number, rejects: ContractError[], drops: DroppedMetric[]): void {
    const c = this.counts;
    const floor = this.options.floor;
    c.received += received;
    c.clean += clean;
    c.duplicate += duplicate;
    c.dlq += rejects.length;
    for (const r of rejects) c.dlqByReason[r.reason] = (c.dlqByReason[r.reason] ?? 0) + 1;
    c.droppedMetrics += drops.length;
    // Unknown names are the devices' choice: one label value for all of them keeps the series bounded.
    const kindOf = (d: DroppedMetric) => (this.catalog.has(d.metric) ? d.metric : UNKNOWN_KIND_LABEL);
    for (const d of drops) {
      const key = `${kindOf(d)}:${d.error.reason}`;
      c.droppedByKind[key] = (c.droppedByKind[key] ?? 0) + 1;
    }
    const m = this.m;
    if (!m || !this.metrics) return;
    m.ingestBatchSize.observe({ floor }, received);
    if (clean) m.ingestMessages.inc({ floor, outcome: 'clean' }, clean);
    if (duplicate) m.ingestMessages.inc({ floor, outcome: 'duplicate' }, duplicate);
    if (rejects.length) m.ingestMessages.inc({ floor, outcome: 'dlq' }, rejects.length);
    for (const r of rejects) this.metrics.dlqMessages.inc({ stage: 'ingest', floor, reason: r.reason });
    for (const d of drops) {
      this.metrics.dlqMessages.inc({ stage: 'ingest', floor, reason: d.error.reason });
      m.metricsDropped.inc({ floor, kind: kindOf(d), reason: d.error.reason });
    }
  }
}
