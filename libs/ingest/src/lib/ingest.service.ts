import {
  HEADER_MQTT_TOPIC,
  buildDlqRecord,
  kafkaTopic,
  parseMqttTelemetryTopic,
  parseReadingPayload,
  type ContractError,
  floorGroupId,
} from '@aiot/contracts';
import type { EventBus, IncomingRecord, OutgoingRecord, Subscription } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { restoreDeduplicator, type DedupRestoreOptions } from './dedup.restore';
import { Deduplicator, type DeduplicatorOptions } from './deduplicator';
import type { DeviceRegistry } from './device-registry';
import { normalizeReading } from './reading.normalizer';

export interface IngestOptions {
  floor: string;
  registry: DeviceRegistry;
  requireRegistered?: boolean;
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

export interface IngestCounts {
  received: number;
  clean: number;
  duplicate: number;
  dlq: number;
  dlqByReason: Record<string, number>;
}

/**
 * sensor-ingest for one floor: `aiot.<floor>.telemetry.raw` → validate, normalise, de-duplicate,
 * enrich → `telemetry.clean`, or `telemetry.dlq` with the original payload and a reason.
 * One batch in, one batch out, then the input offsets are committed (by the bus).
 */
export class IngestService {
  readonly counts: IngestCounts = { received: 0, clean: 0, duplicate: 0, dlq: 0, dlqByReason: {} };
  private dedup: Deduplicator;
  private readonly rawTopic: string;
  private readonly cleanTopic: string;
  private readonly dlqTopic: string;
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly options: IngestOptions,
    private readonly metrics?: AiotMetrics,
    private readonly logger: Logger = silentLogger,
  ) {
    this.dedup = options.deduplicator ?? new Deduplicator(options.dedup);
    this.rawTopic = kafkaTopic(options.floor, 'telemetry.raw');
    this.cleanTopic = kafkaTopic(options.floor, 'telemetry.clean');
    this.dlqTopic = kafkaTopic(options.floor, 'telemetry.dlq');
  }

  get floor(): string {
    return this.options.floor;
  }

  async start(): Promise<void> {
    await this.bus.ensureTopics([this.rawTopic, this.cleanTopic, this.dlqTopic]);
    const groupId = this.options.groupId ?? floorGroupId(this.options.floor, 'sensor-ingest');
    if (this.options.restore) {
      const started = Date.now();
      // The tail reader's group shares the consumer group's prefix, which the floor's ACL allows.
      const restored = await restoreDeduplicator(this.bus, this.cleanTopic, this.options.dedup, { groupPrefix: groupId, ...this.options.restore });
      this.dedup = restored.deduplicator;
      this.logger.info(
        { records: restored.records, skipped: restored.skipped, devices: restored.deduplicator.deviceCount, ms: Date.now() - started },
        'de-duplication state restored from the clean topic',
      );
    }
    if (this.options.consume === false) {
      this.logger.info({ registryDevices: this.options.registry.size }, 'ingest started (fed by the event-bus transport)');
      return;
    }
    this.subscription = await this.bus.subscribe({
      // `<floor>.` prefix: the floor identity's group ACL covers it.
      groupId,
      topics: [this.rawTopic],
      handler: (batch) => this.handleBatch(batch),
    });
    // `floor` comes from the caller's logger bindings (one per floor), so it is not repeated here.
    this.logger.info({ registryDevices: this.options.registry.size }, 'ingest started');
  }

  /** Finishes the batch in progress (its output written, its offsets committed), then stops. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  async handleBatch(batch: IncomingRecord[]): Promise<void> {
    const now = Date.now();
    const floor = this.options.floor;
    const out: OutgoingRecord[] = [];
    const dedupBatch = this.dedup.begin();
    let clean = 0;
    let duplicate = 0;
    const rejects: ContractError[] = [];
    const reject = (record: IncomingRecord, error: ContractError, mqttTopic: string | undefined) => {
      rejects.push(error);
      const dlq = buildDlqRecord(
        { stage: 'ingest', sourceTopic: record.topic, floor, payload: record.value, ...(mqttTopic ? { mqttTopic } : {}), ...(record.key ? { key: record.key } : {}) },
        error,
        now,
      );
      out.push({ topic: this.dlqTopic, key: record.key ?? '', value: JSON.stringify(dlq) });
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
      const normalized = [];
      let error: ContractError | undefined;
      for (const reading of parsed.value) {
        const n = normalizeReading(reading, {
          address: address.value,
          registry: this.options.registry,
          requireRegistered: this.options.requireRegistered ?? false,
          nowMs: now,
        });
        if (!n.ok) {
          error = n.error;
          break;
        }
        normalized.push(n.value);
      }
      if (error) {
        reject(record, error, mqttTopic);
        continue;
      }
      for (const reading of normalized) {
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
    await this.bus.publish(out);
    // Only now, with the output acknowledged, do these readings count as seen.
    dedupBatch.commit();
    this.count(batch.length, clean, duplicate, rejects);
  }

  private count(received: number, clean: number, duplicate: number, rejects: ContractError[]): void {
    const c = this.counts;
    const floor = this.options.floor;
    c.received += received;
    c.clean += clean;
    c.duplicate += duplicate;
    c.dlq += rejects.length;
    for (const r of rejects) c.dlqByReason[r.reason] = (c.dlqByReason[r.reason] ?? 0) + 1;
    const m = this.metrics;
    if (!m) return;
    m.ingestBatchSize.observe({ floor }, received);
    if (clean) m.ingestMessages.inc({ floor, outcome: 'clean' }, clean);
    if (duplicate) m.ingestMessages.inc({ floor, outcome: 'duplicate' }, duplicate);
    if (rejects.length) m.ingestMessages.inc({ floor, outcome: 'dlq' }, rejects.length);
    for (const r of rejects) m.dlqMessages.inc({ stage: 'ingest', floor, reason: r.reason });
  }
}
