import path from 'node:path';
import { parseKafkaTopic } from '@aiot/contracts';
import { AnalyticsService, type AnalyticsOptions } from '@aiot/analytics';
import { IngestService, type IngestOptions } from '@aiot/ingest';
import type { EventBus } from '@aiot/messaging';
import type { AiotMetrics, Logger } from '@aiot/observability';

/** The per-floor services of one floor, as a floor namespace would run them in the cluster. */
export interface FloorServices {
  floor: string;
  ingest: IngestService;
  analytics: AnalyticsService;
}

/**
 * Starts a floor's services the first time one of its topics is created, so any floor a device
 * publishes to (e.g. `aiot/hq/floor-42/…`) works in edge-local without configuration. Called from
 * the in-process bus' topic-creation listener, i.e. before the bridge publishes the floor's first record.
 */
export class FloorManager {
  private readonly floors = new Map<string, Promise<FloorServices>>();

  constructor(
    private readonly bus: EventBus,
    /** What every floor's ingest shares: registry, catalog, metric policy. */
    private readonly ingestOptions: Pick<IngestOptions, 'registry' | 'catalog' | 'metricPolicy'>,
    private readonly metrics: AiotMetrics,
    private readonly logger: Logger,
    private readonly modelRoot: string,
    /** What every floor's stream-analytics shares: threshold rules, room types, the catalog's units. */
    private readonly analyticsOptions: Pick<AnalyticsOptions, 'rulesFile' | 'catalog'> = {},
    /** Each floor's calibration file is `<calibrationDir>/<floor>.json`; none (in memory only) when unset. */
    private readonly calibrationDir?: string,
  ) {}

  async onTopicsCreated(topics: string[]): Promise<void> {
    for (const topic of topics) {
      const parsed = parseKafkaTopic(topic);
      if (parsed.ok && parsed.value.stream === 'telemetry.raw') await this.ensure(parsed.value.floor);
    }
  }

  ensure(floor: string): Promise<FloorServices> {
    let services = this.floors.get(floor);
    if (!services) {
      services = (async () => {
        const logger = this.logger.child({ floor });
        // Fed by the edge-local app's event-bus transports (@EventPattern handlers over every floor).
        const ingest = new IngestService(this.bus, { ...this.ingestOptions, floor, consume: false }, this.metrics, logger);
        // floor ids are single topic segments (floorIdSchema), so safe as a file name
        const calibration = this.calibrationDir !== undefined ? { calibrationFile: path.join(this.calibrationDir, `${floor}.json`) } : {};
        const analytics = new AnalyticsService(this.bus, { ...this.analyticsOptions, ...calibration, floor, modelRoot: this.modelRoot, consume: false }, this.metrics, logger);
        await ingest.start();
        await analytics.start();
        logger.info('floor services started (sensor-ingest, stream-analytics)');
        return { floor, ingest, analytics };
      })();
      this.floors.set(floor, services);
    }
    return services;
  }

  async ingestFor(floor: string): Promise<IngestService> {
    return (await this.ensure(floor)).ingest;
  }

  async analyticsFor(floor: string): Promise<AnalyticsService> {
    return (await this.ensure(floor)).analytics;
  }

  async all(): Promise<FloorServices[]> {
    return Promise.all(this.floors.values());
  }

  async stop(): Promise<void> {
    for (const s of await this.all()) {
      await s.ingest.stop();
      await s.analytics.stop();
    }
  }
}
