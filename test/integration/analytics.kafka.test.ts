import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnalyticsService } from '@aiot/analytics';
import { alertSchema, dlqRecordSchema, featureVectorSchema, type CleanReading } from '@aiot/contracts';
import { KafkaEventBus } from '@aiot/messaging';
import { SimulatorService } from '@aiot/simulator';
import { KAFKA_BROKERS, REPO_ROOT } from '../support/brokers';
import { readTopic } from '../support/kafka-reader';
import { waitFor } from '../support/mqtt-publisher';
import { kafkaSecurity, provisionFloor } from '../support/security';

jest.setTimeout(90_000);

const uniq = () => Math.random().toString(36).slice(2, 8);
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0); // on the minute

/**
 * A model root serving anomaly version 1 (scored without room learning): predictions for a room's
 * first windows then alert, which is what the join test needs. The served version (a room-calibrated
 * one) alerts only after a learning day; anomaly-replay.e2e.test.ts covers that.
 */
function modelRootWithAnomalyV1(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'aiot-models-v1-'));
  for (const model of ['occupancy', 'anomaly']) {
    mkdirSync(path.join(root, model));
    cpSync(path.join(REPO_ROOT, 'models', model, '1'), path.join(root, model, '1'), { recursive: true });
  }
  writeFileSync(path.join(root, 'anomaly/current'), '1\n');
  return root;
}

/**
 * stream-analytics on the real Kafka broker: clean readings in, feature vectors (in model.json
 * order, from the committed models), alerts and late readings out.
 */
describe('stream-analytics on real Kafka', () => {
  it('publishes feature vectors, raises a sensor_stuck maintenance alert for a frozen CO2 sensor and dead-letters a late reading', async () => {
    const floor = `it-an-${uniq()}`;
    await provisionFloor(floor);
    const bus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: `it-${floor}`, compression: 'none', replicationFactor: 1, security: kafkaSecurity(floor) });
    await bus.start();
    const svc = new AnalyticsService(bus, { floor, modelRoot: path.join(REPO_ROOT, 'models'), modelReloadMs: 0 });
    await svc.start();
    expect(svc.models.map((m) => m.model).sort()).toEqual(['anomaly', 'occupancy']);

    const reading = (deviceId: string, i: number, metrics: CleanReading['metrics'], tsOffsetMs = 0, seq = i): CleanReading => ({
      site: 'hq',
      floor,
      room: 'r1',
      deviceId,
      ts: T0 + i * MIN + tsOffsetMs,
      seq,
      metrics,
      ingestedAt: Date.now(),
    });
    const publish = (readings: CleanReading[]) => bus.publish(readings.map((r) => ({ topic: svc.topics.clean, key: r.deviceId, value: JSON.stringify(r) })));

    // 15 minutes, one reading per device and minute; the CO2 sensor repeats 612 ppm throughout.
    // Each minute goes out once the previous one was consumed, as it would in real time.
    const minutes = 15;
    for (let i = 0; i < minutes; i++) {
      await publish([
        reading('r1-co2', i, { co2: 612 }),
        reading('r1-temp', i, { temperature: 21 + 0.03 * i + (i % 2) * 0.02 }),
        reading('r1-hum', i, { humidity: 35 + 0.1 * (i % 3) }),
        reading('r1-light', i, { light: 410 + (i % 4) }),
      ]);
      await waitFor(() => svc.counts.readings >= 4 * (i + 1), 20_000, `minute ${i} consumed`);
    }
    // a reading for a window that closed long ago
    await publish([reading('r1-temp', 1, { temperature: 30 }, 5_000, 999)]);
    await waitFor(() => svc.counts.late >= 1, 20_000, 'the late reading');

    // windows end at T0 + 30 s + k min; the watermark is now T0 + 14 min − 30 s: 14 windows closed
    const closed = minutes - 1;
    const features = (await readTopic(svc.topics.features, { count: 2 * closed - 1, quietMs: 1000 })).map((r) => ({ key: r.key, v: featureVectorSchema.parse(JSON.parse(r.value)) }));
    const occupancy = features.filter((f) => f.v.model === 'occupancy');
    const anomaly = features.filter((f) => f.v.model === 'anomaly');
    expect(occupancy).toHaveLength(closed);
    expect(anomaly).toHaveLength(closed - 1); // the first window has no CO2 slope yet
    expect(features.every((f) => f.key === 'r1')).toBe(true);
    expect(occupancy[0]!.v.names).toEqual(svc.models.find((m) => m.model === 'occupancy')!.features);
    expect(occupancy[0]!.v).toMatchObject({ windowStart: T0 - 30_000, windowEnd: T0 + 30_000 });
    expect(occupancy[0]!.v.values.slice(0, 4)).toEqual([21, 35, 410, 612]);
    expect(anomaly[0]!.v.names).toEqual(svc.models.find((m) => m.model === 'anomaly')!.features);

    const alerts = (await readTopic(svc.topics.alerts, { count: 1, quietMs: 1000 })).map((r) => ({ key: r.key, a: alertSchema.parse(JSON.parse(r.value)) }));
    const stuck = alerts.filter((x) => x.a.rule === 'sensor_stuck');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]!.key).toBe('r1');
    expect(stuck[0]!.a).toMatchObject({ state: 'firing', severity: 'warning', room: 'r1', deviceId: 'r1-co2', value: 612, floor });
    expect(stuck[0]!.a.message).toMatch(/^maintenance: co2 on r1-co2/);
    // fired with the 10th window of the frozen value (window end T0 + 9 min 30 s)
    expect(stuck[0]!.a.ts).toBe(T0 + 9 * MIN + 30_000);

    const dlq = (await readTopic(svc.topics.dlq, { count: 1, quietMs: 1000 })).map((r) => dlqRecordSchema.parse(JSON.parse(r.value)));
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ stage: 'analytics', reason: 'late', floor, sourceTopic: svc.topics.clean, key: 'r1-temp' });
    expect(JSON.parse(dlq[0]!.payload!)).toMatchObject({ seq: 999, ts: T0 + MIN + 5_000 });

    const status = svc.roomStatus('r1')!;
    expect(status.activeAlerts.map((a) => a.rule)).toContain('sensor_stuck');
    expect(status.latest.co2).toEqual({ value: 612, ts: T0 + (minutes - 1) * MIN });

    await svc.stop();
    await bus.close();
  });

  it('joins predictions back by room (anomaly alert after de-bounce) and tolerates devices minutes apart across partitions', async () => {
    const floor = `it-an-${uniq()}`;
    await provisionFloor(floor);
    const bus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: `it-${floor}`, compression: 'none', replicationFactor: 1, security: kafkaSecurity(floor) });
    await bus.start();
    const modelRoot = modelRootWithAnomalyV1();
    const svc = new AnalyticsService(bus, { floor, modelRoot, modelReloadMs: 0, rules: { anomaly: { fireAfter: 3 } } });
    await svc.start();
    const reading = (deviceId: string, i: number, metrics: CleanReading['metrics']): CleanReading => ({
      site: 'hq', floor, room: 'r2', deviceId, ts: T0 + i * MIN, seq: i, metrics, ingestedAt: Date.now(),
    });
    // both devices report, then one device's next four minutes arrive (one batch) before the
    // other's: the room's watermark waits for the slower device (within maxDeviceSkewMs), nothing is late
    const batch = (deviceId: string, minutes: number[], metrics: (i: number) => CleanReading['metrics']) =>
      minutes.map((i) => ({ topic: svc.topics.clean, key: deviceId, value: JSON.stringify(reading(deviceId, i, metrics(i))) }));
    const temp = (i: number) => ({ temperature: 21 + i / 10 });
    const co2 = (i: number) => ({ co2: 500 + 10 * i });
    await bus.publish([...batch('r2-temp', [0], temp), ...batch('r2-co2', [0], co2)]);
    await waitFor(() => svc.counts.readings >= 2, 20_000, 'minute 0');
    await bus.publish(batch('r2-temp', [1, 2, 3, 4], temp));
    await waitFor(() => svc.counts.readings >= 6, 20_000, 'first device ahead');
    expect(svc.roomStatus('r2')!.window).toBeUndefined(); // nothing closed while r2-co2 lags
    await bus.publish(batch('r2-co2', [1, 2, 3, 4], co2));
    await waitFor(() => svc.counts.readings >= 10, 20_000, 'second device catching up');
    expect(svc.counts.late).toBe(0);
    expect(svc.roomStatus('r2')!.window!.metrics).toMatchObject({ temperature: { count: 1 }, co2: { count: 1 } });

    const threshold = svc.models.find((m) => m.model === 'anomaly')!.threshold!;
    const predictions = [0, 1, 2].map((i) => ({
      id: `p${i}`, site: 'hq', floor, room: 'r2', model: 'anomaly', modelVersion: '1',
      windowStart: T0 + i * MIN - 30_000, windowEnd: T0 + i * MIN + 30_000, score: threshold + 100, threshold, label: 1, ts: Date.now(),
    }));
    predictions.push({ id: 'po', site: 'hq', floor, room: 'r2', model: 'occupancy', modelVersion: '1', windowStart: T0 - 30_000, windowEnd: T0 + 30_000, probability: 0.25, label: 0, ts: Date.now() } as never);
    await bus.publish(predictions.map((p) => ({ topic: svc.topics.predictions, key: 'r2', value: JSON.stringify(p) })));
    await waitFor(() => svc.counts.predictions >= 4, 20_000, 'predictions consumed');
    const alerts = (await readTopic(svc.topics.alerts, { count: 1, quietMs: 1000 })).map((r) => alertSchema.parse(JSON.parse(r.value)));
    expect(alerts.map((a) => [a.rule, a.state, a.room, a.modelVersion])).toEqual([['anomaly', 'firing', 'r2', '1']]);
    expect(svc.roomStatus('r2')).toMatchObject({ occupancy: { probability: 0.25 }, anomaly: { score: threshold + 100 } });
    await svc.stop();
    await bus.close();
    rmSync(modelRoot, { recursive: true, force: true });
  });

  it('keeps up with a simulated building at 1200× (20 simulated minutes per second): no late readings, the frozen CO2 sensor alerts', async () => {
    const floor = `it-an-${uniq()}`;
    await provisionFloor(floor);
    const bus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: `it-${floor}`, compression: 'none', replicationFactor: 1, security: kafkaSecurity(floor) });
    await bus.start();
    const svc = new AnalyticsService(bus, { floor, modelRoot: path.join(REPO_ROOT, 'models'), modelReloadMs: 0 });
    await svc.start();
    const sim = new SimulatorService({ floors: 1, roomsPerFloor: 2, seed: 7, startMs: T0, faults: [{ type: 'stuck', floor: 'floor-1', room: 'r02', kind: 'co2' }] });
    let sent = 0;
    // 40 simulated minutes in 2 s of wall clock, one publish per simulated minute (10 devices)
    for (let minute = 0; minute < 40; minute++) {
      const readings = sim.nextTick().flatMap((m) =>
        m.reading ? [{ site: 'hq', floor, room: m.address.room, deviceId: `${floor}-${m.address.deviceId}`, deviceKind: m.kind, ts: m.reading.ts, seq: m.reading.seq, metrics: m.reading.metrics, ingestedAt: Date.now() }] : [],
      );
      await bus.publish(readings.map((r) => ({ topic: svc.topics.clean, key: r.deviceId, value: JSON.stringify(r) })));
      sent += readings.length;
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(() => svc.counts.readings + svc.counts.late >= sent, 30_000, 'all readings consumed');
    expect(svc.counts.late).toBe(0);
    const alerts = (await readTopic(svc.topics.alerts, { count: 1, quietMs: 1000 })).map((r) => alertSchema.parse(JSON.parse(r.value)));
    const stuck = alerts.filter((a) => a.rule === 'sensor_stuck' && a.state === 'firing');
    expect(stuck.map((a) => [a.room, a.deviceId])).toEqual([["r02", `${floor}-floor-1-r02-co2`]]);
    const rooms = svc.rooms();
    expect(rooms.map((r) => r.room)).toEqual(['r01', 'r02']);
    expect(rooms.every((r) => r.window && Object.keys(r.window.metrics).length === 5)).toBe(true);
    await svc.stop();
    await bus.close();
  });
});
