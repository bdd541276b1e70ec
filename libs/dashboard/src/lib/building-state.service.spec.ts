import { kafkaTopic, type Alert, type CleanReading, type Prediction } from '@aiot/contracts';
import { EventBusClient, InProcessEventBus, type IncomingRecord } from '@aiot/messaging';
import { AiotMetrics, ProbeRegistry } from '@aiot/observability';
import { BuildingStateService } from './building-state.service';
import type { BuildingDelta } from './dashboard.api';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const clean = (floor: string, room: string, co2: number, ts = T0): CleanReading => ({
  site: 'hq',
  floor,
  room,
  deviceId: `${floor}-${room}-co2`,
  ts,
  seq: 1,
  metrics: { co2 },
  ingestedAt: ts,
});
const stuck: Alert = {
  id: 'floor-2:r03:sensor_stuck:1',
  site: 'hq',
  floor: 'floor-2',
  room: 'r03',
  deviceId: 'floor-2-r03-co2',
  rule: 'sensor_stuck',
  severity: 'warning',
  state: 'firing',
  message: 'CO2 sensor has reported 612 ppm for 15 min',
  ts: T0,
};
const occupancy: Prediction = {
  id: 'p1',
  site: 'hq',
  floor: 'floor-2',
  room: 'r03',
  model: 'occupancy',
  modelVersion: '1',
  windowStart: T0 - 60_000,
  windowEnd: T0,
  label: 1,
  probability: 0.97,
  ts: T0,
};
const until = async (cond: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('BuildingStateService on the in-process bus', () => {
  let bus: InProcessEventBus;
  let svc: BuildingStateService;
  afterEach(async () => {
    await svc?.stop();
    await bus?.close();
  });

  it('sees readings, predictions and alerts of floors whose topics appear after it subscribed', async () => {
    bus = new InProcessEventBus();
    const metrics = new AiotMetrics({ defaultMetrics: false });
    const probes = new ProbeRegistry();
    probes.addReadiness('bus', () => ({ up: true }));
    svc = new BuildingStateService(bus, { deltaIntervalMs: 20, metrics, probes: { name: 'edge-local', registry: probes } });
    const deltas: BuildingDelta[] = [];
    svc.onDelta((d) => deltas.push(d));
    await svc.start();
    await bus.ensureTopics([kafkaTopic('floor-2', 'telemetry.clean')]);
    await bus.publish([
      { topic: kafkaTopic('floor-2', 'telemetry.clean'), key: 'd', value: JSON.stringify(clean('floor-2', 'r03', 612)) },
      { topic: kafkaTopic('floor-2', 'predictions'), key: 'r03', value: JSON.stringify(occupancy) },
      { topic: kafkaTopic('floor-2', 'alerts'), key: 'r03', value: JSON.stringify(stuck) },
      { topic: kafkaTopic('floor-2', 'alerts'), key: 'r03', value: '{"not":"an alert"}' },
      { topic: kafkaTopic('floor-2', 'telemetry.clean'), key: 'd', value: '{' },
    ]);
    await until(() => deltas.some((d) => d.alerts.length > 0));
    const room = svc.room('floor-2', 'r03')!;
    expect(room).toMatchObject({ values: { co2: 612 }, occupancy: { probability: 0.97, label: 1 }, state: 'warn', unackedAlerts: 1 });
    expect(svc.models()).toMatchObject([{ model: 'occupancy', version: '1', floors: ['floor-2'] }]);
    expect(svc.snapshot().stats).toMatchObject({ readings: 1, predictions: 1, alerts: 1, rejected: 2 });
    expect(svc.services().map((s) => [s.name, s.up])).toEqual([
      ['edge-local: bus', true],
      ['stream: telemetry.clean', null],
      ['stream: predictions', null],
      ['stream: alerts', null],
    ]);
    const text = await metrics.metricsText();
    expect(text).toMatch(/^aiot_dashboard_records_total\{stream="alerts",outcome="invalid"\} 1$/m);
    expect(text).toMatch(/^aiot_dashboard_records_total\{stream="telemetry.clean",outcome="applied"\} 1$/m);
  });

  it('refuses ackEvents=command without a client to emit the commands with', () => {
    expect(() => new BuildingStateService(new InProcessEventBus(), { ackEvents: 'command' })).toThrow(/needs the event-bus client/);
  });

  it('acknowledges locally and, with ackEvents=command, tells the device and applies acks seen from other replicas', async () => {
    bus = new InProcessEventBus();
    const commands: IncomingRecord[] = [];
    await bus.subscribe({ groupId: 'spy', topics: [kafkaTopic('floor-2', 'commands')], handler: async (b) => void commands.push(...b) });
    svc = new BuildingStateService(bus, { deltaIntervalMs: 20, ackEvents: 'command', commands: new EventBusClient(bus) });
    const other = new BuildingStateService(bus, { deltaIntervalMs: 20, ackEvents: 'command', commands: new EventBusClient(bus) });
    await svc.start();
    await other.start();
    expect(svc.groupId).not.toBe(other.groupId);
    await bus.publish([{ topic: kafkaTopic('floor-2', 'alerts'), key: 'r03', value: JSON.stringify(stuck) }]);
    await until(() => svc.alerts().length === 1 && other.alerts().length === 1);
    expect(await svc.ack('missing')).toBeUndefined();
    const entry = (await svc.ack(stuck.id, 'ops'))!;
    expect(entry).toMatchObject({ acked: true, ackedBy: 'ops' });
    await until(() => commands.length === 1);
    expect(JSON.parse(commands[0]!.value.toString())).toMatchObject({
      floor: 'floor-2',
      room: 'r03',
      deviceId: 'floor-2-r03-co2',
      command: 'alert.ack',
      params: { alertId: stuck.id, by: 'ops' },
    });
    await until(() => other.alerts()[0]!.acked);
    await svc.ack(stuck.id); // already acknowledged: no second command
    await new Promise((r) => setTimeout(r, 30));
    expect(commands).toHaveLength(1);
    await other.stop();
  });

  it('retries subscribing when the bus refuses (e.g. Kafka without matching topics yet)', async () => {
    bus = new InProcessEventBus();
    let calls = 0;
    const realSubscribe = bus.subscribe.bind(bus);
    bus.subscribe = async (o) => {
      if (++calls === 1) throw new Error('no existing topic matches');
      return realSubscribe(o);
    };
    svc = new BuildingStateService(bus, { subscribeRetryMs: 10, floors: ['floor-7'] });
    await svc.start();
    expect(svc.subscribed).toBe(false);
    await until(() => svc.subscribed);
    expect(calls).toBe(2);
  });
});
