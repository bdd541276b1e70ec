import { HEADER_MQTT_TOPIC, cleanReadingSchema, floorGroupId, kafkaTopic } from '@aiot/contracts';
import { DeviceRegistry, IngestService, restoreDeduplicator } from '@aiot/ingest';
import { KafkaEventBus } from '@aiot/messaging';
import { KAFKA_BROKERS } from '../support/brokers';
import { readTopic } from '../support/kafka-reader';
import { waitFor } from '../support/mqtt-publisher';
import { kafkaSecurity, provisionFloor } from '../support/security';

/**
 * Ingest's de-duplication state after a restart, on real Kafka. The worst case of an ingest crash
 * is that none of its raw offsets were committed: everything it already wrote to the clean topic
 * is consumed again. Rebuilt from the clean topic's tail, the state recognises all of it.
 */

jest.setTimeout(180_000);

const uniq = () => Math.random().toString(36).slice(2, 8);

function rawRecords(floor: string, devices: number, fromSeq: number, toSeq: number) {
  const out = [];
  for (let seq = fromSeq; seq < toSeq; seq++) {
    for (let d = 0; d < devices; d++) {
      const deviceId = `dev-${d}`;
      out.push({
        topic: kafkaTopic(floor, 'telemetry.raw'),
        key: deviceId,
        value: JSON.stringify({ deviceId, ts: Date.UTC(2026, 0, 1) + seq * 1000, seq, metrics: { co2: 500 + seq } }),
        headers: { [HEADER_MQTT_TOPIC]: `aiot/hq/${floor}/r1/${deviceId}/telemetry` },
      });
    }
  }
  return out;
}

describe("ingest's de-duplication state survives a restart (rebuilt from the clean topic's tail)", () => {
  it('a restarted ingest that consumes everything again writes nothing twice, and new readings still flow', async () => {
    const floor = `flt-dedup-${uniq()}`;
    // The floor's topics and identity (the access step); ingest runs as the floor, as in the
    // cluster. Its client id carries the floor's group prefix, so the tail reader's throw-away
    // group (<clientId>.tail.…) is one the floor may use.
    await provisionFloor(floor);
    const security = kafkaSecurity(floor);
    const bus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: floorGroupId(floor, 'it'), compression: 'none', replicationFactor: 1, ...(security ? { security } : {}) });
    await bus.start();
    const cleanTopic = kafkaTopic(floor, 'telemetry.clean');
    try {
      await bus.publish(rawRecords(floor, 20, 0, 150)); // 3,000 readings
      const first = new IngestService(bus, { floor, registry: new DeviceRegistry(), groupId: floorGroupId(floor, 'ingest-a') });
      await first.start();
      await waitFor(() => first.counts.clean === 3000, 90_000, 'first ingest to write 3000 clean readings');
      await first.stop();

      // "Restart" with no committed offsets at all: a new consumer group reads raw from the start.
      const restored = await restoreDeduplicator(bus, cleanTopic, {}, { timeoutMs: 60_000 });
      expect(restored).toMatchObject({ records: 3000, skipped: 0 });
      expect(restored.deduplicator.deviceCount).toBe(20);
      const second = new IngestService(bus, { floor, registry: new DeviceRegistry(), groupId: floorGroupId(floor, 'ingest-b'), deduplicator: restored.deduplicator });
      await second.start();
      await bus.publish(rawRecords(floor, 20, 150, 175)); // and 500 new readings after the restart
      await waitFor(() => second.counts.received === 3500, 90_000, 'second ingest to consume 3500 raw records');
      await second.stop();
      expect(second.counts).toMatchObject({ received: 3500, duplicate: 3000, clean: 500, dlq: 0 });

      const ids = (await readTopic(cleanTopic, { count: 3500, quietMs: 3000 })).map((r) => {
        const c = cleanReadingSchema.parse(JSON.parse(r.value));
        return `${c.deviceId}#${c.seq}`;
      });
      expect(ids).toHaveLength(3500);
      expect(new Set(ids).size).toBe(3500);

      // The tail read is bounded per partition.
      const bounded = await restoreDeduplicator(bus, cleanTopic, {}, { maxPerPartition: 100, timeoutMs: 60_000 });
      expect(bounded.records).toBeLessThanOrEqual(300);
      expect(bounded.records).toBeGreaterThan(0);
    } finally {
      await bus.close();
    }
  });
});
