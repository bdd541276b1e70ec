import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FOREIGN_UPLINK_SAMPLES } from '@aiot/bridge';
import { DEFAULT_SENSOR_CATALOG } from '@aiot/contracts';
import mqtt from 'mqtt';
import { freshHistoryDataDir } from '../support/history-data';
import { getText, startService, type ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/mqtt-publisher';
import { freePort } from '../support/ports';

jest.setTimeout(90_000);

// Free ports: the test brokers and the fault tests' proxies (11884 among them) may be running.
let HTTP_PORT = 0;
let MQTT_PORT = 0;

describe('edge-local (npm start): the whole stack in one process', () => {
  let edge: ServiceProcess;
  let historyDir: string;

  beforeAll(async () => {
    [HTTP_PORT, MQTT_PORT] = [await freePort(), await freePort()];
    historyDir = freshHistoryDataDir();
    edge = await startService(
      'edge-local',
      // pm2_5 is no built-in kind: the simulator emits it from the catalog (SIM_EXTRA_KINDS)
      { MQTT_PORT: String(MQTT_PORT), SIM_FLOORS: '2', SIM_ROOMS: '3', SIM_EXTRA_KINDS: 'pm2_5', LOG_PRETTY: 'false', HISTORY_DATA_DIR: historyDir },
      { port: HTTP_PORT },
    );
  });
  afterAll(async () => {
    await edge?.stop('SIGKILL');
    rmSync(historyDir, { recursive: true, force: true });
  });

  it('runs Debian\'s Mosquitto as its MQTT broker and says so at start-up', async () => {
    expect(edge.logs.join('\n')).toMatch(/MQTT broker listening: Mosquitto \(\/usr\/sbin\/mosquitto\) as a child process: MQTT 5 and 3\.1\.1/);
    const status = JSON.parse((await getText(HTTP_PORT, '/api/status')).text) as { broker: { kind: string; protocolVersions: number[] } };
    expect(status.broker).toMatchObject({ kind: 'mosquitto', protocolVersions: [5, 4, 3] });
  });

  it('counts readings published by an MQTT 5 client and by an MQTT 3.1.1 client as clean', async () => {
    const topic = 'aiot/hq/floor-43/r1/d5/telemetry';
    const v5 = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, { protocolVersion: 5, clientId: 'e2e-mqtt5' });
    const v4 = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, { protocolVersion: 4, clientId: 'e2e-mqtt311' });
    try {
      // aedes refuses the MQTT 5 CONNECT ("Unsupported protocol version"): this fails on the fallback.
      await v5.publishAsync(topic, JSON.stringify({ deviceId: 'd5', ts: Date.now(), seq: 1, metrics: { temperature: 22 } }), { qos: 1, properties: { contentType: 'application/json' } });
      await v4.publishAsync(topic, JSON.stringify({ deviceId: 'd5', ts: Date.now(), seq: 2, metrics: { temperature: 22.5 } }), { qos: 1 });
    } finally {
      await Promise.all([v5.endAsync(), v4.endAsync()]);
    }
    type Status = { floors: Record<string, { received: number; clean: number; duplicate: number; dlq: number }> };
    let floor: Status['floors'][string] | undefined;
    await waitFor(async () => {
      floor = (JSON.parse((await getText(HTTP_PORT, '/api/status')).text) as Status).floors['floor-43'];
      return floor !== undefined && floor.clean + floor.dlq + floor.duplicate >= 2;
    }, 20_000, 'floor-43 in /api/status');
    expect(floor).toMatchObject({ received: 2, clean: 2, duplicate: 0, dlq: 0 });
  });

  it('shows the extra kind the simulator emits (SIM_EXTRA_KINDS=pm2_5) in every simulated room, inside its catalog range', async () => {
    type Building = { floors: Array<{ floor: string; rooms: Array<{ room: string; values: Record<string, number> }> }> };
    let rooms: Array<{ room: string; values: Record<string, number> }> = [];
    await waitFor(async () => {
      const building = JSON.parse((await getText(HTTP_PORT, '/api/building')).text) as Building;
      rooms = building.floors.filter((f) => f.floor === 'floor-1' || f.floor === 'floor-2').flatMap((f) => f.rooms);
      return rooms.length === 6 && rooms.every((r) => r.values['pm2_5'] !== undefined);
    }, 30_000, 'pm2_5 in every simulated room of /api/building');
    const { min, max } = DEFAULT_SENSOR_CATALOG.kinds['pm2_5']!.range;
    for (const r of rooms) {
      expect(r.values['pm2_5']).toBeGreaterThanOrEqual(min);
      expect(r.values['pm2_5']).toBeLessThanOrEqual(max);
    }
    // the built-in kinds are still there beside it
    expect(rooms.every((r) => r.values['co2'] !== undefined)).toBe(true);
  });

  it('refuses at start-up an extra kind the catalog does not list, naming it', async () => {
    const port = await freePort();
    const bad = await startService('edge-local', { MQTT_PORT: String(await freePort()), SIM_EXTRA_KINDS: 'pm2_5,radon', HISTORY_ENABLED: 'false', LOG_PRETTY: 'false' }, { port, waitReady: false });
    const code = await Promise.race([bad.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 30_000))]);
    if (code === 'running') await bad.stop('SIGKILL');
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);
    expect(bad.logs.join('\n')).toMatch(/extra kind "radon" is not in the sensor catalog/);
  });

  it('says at start-up that it is open and listens on loopback only', () => {
    const notice = edge.logs.find((l) => l.includes('edge-local is open'));
    expect(notice).toMatch(/no authentication on MQTT or HTTP, so it listens on loopback only \(HTTP 127\.0\.0\.1, MQTT 127\.0\.0\.1\)/);
  });

  it('counts a reading published by any MQTT client as clean, and a malformed one as DLQ', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, { protocolVersion: 4 });
    const topic = 'aiot/hq/floor-42/r1/d1/telemetry';
    await client.publishAsync(topic, JSON.stringify({ deviceId: 'd1', ts: Date.now(), seq: 1, metrics: { temperature: 21.5, co2: 640 } }), { qos: 1 });
    await client.publishAsync(topic, '{"deviceId":"d1","ts":', { qos: 1 });
    await client.endAsync();

    type Status = { floors: Record<string, { received: number; clean: number; duplicate: number; dlq: number; dlqByReason: Record<string, number> }>; broker: { connections: number } };
    let status: Status | undefined;
    // Mosquitto reports its client count through $SYS every 2 s: wait for the bridge and the simulator too.
    await waitFor(async () => {
      status = JSON.parse((await getText(HTTP_PORT, '/api/status')).text) as Status;
      const f = status.floors['floor-42'];
      return f !== undefined && f.clean === 1 && f.dlq === 1 && status.broker.connections >= 2;
    }, 20_000, 'floor-42 in /api/status');
    expect(status!.floors['floor-42']).toMatchObject({ received: 2, clean: 1, duplicate: 0, dlq: 1, dlqByReason: { malformed_json: 1 } });
    expect(status!.broker.connections).toBeGreaterThanOrEqual(2); // the bridge and the simulator

    const metrics = (await getText(HTTP_PORT, '/metrics')).text;
    expect(metrics).toMatch(/^aiot_ingest_messages_total\{floor="floor-42",outcome="clean"\} 1$/m);
    expect(metrics).toMatch(/^aiot_ingest_messages_total\{floor="floor-42",outcome="dlq"\} 1$/m);
    expect(metrics).toMatch(/^aiot_bridge_messages_total\{direction="mqtt_to_kafka",floor="floor-42"\} 2$/m);
  });

  it('runs the simulated building: every simulated floor receives clean readings', async () => {
    await waitFor(async () => {
      const s = JSON.parse((await getText(HTTP_PORT, '/api/status')).text) as { floors: Record<string, { clean: number }> };
      return (s.floors['floor-1']?.clean ?? 0) > 0 && (s.floors['floor-2']?.clean ?? 0) > 0;
    }, 20_000, 'simulated floors');
  });

  it('refuses a bad fault request with a clear 400', async () => {
    const res = await fetch(`http://127.0.0.1:${HTTP_PORT}/api/simulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'melting' }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/type/);
  });

  it('stops cleanly on SIGTERM (Ctrl-C does the same)', async () => {
    const code = await edge.stop('SIGTERM');
    expect(code).toBe(0);
    expect(edge.logs.join('\n')).toContain('shutdown complete');
  });
});

describe('edge-local without Mosquitto: aedes as the fallback, and it says so', () => {
  let edge: ServiceProcess;
  let port = 0;
  let mqttPort = 0;

  beforeAll(async () => {
    [port, mqttPort] = [await freePort(), await freePort()];
    edge = await startService(
      'edge-local',
      { MQTT_PORT: String(mqttPort), MOSQUITTO_BIN: '/nonexistent/mosquitto', SIM_ENABLED: 'false', HISTORY_ENABLED: 'false', LOG_PRETTY: 'false' },
      { port },
    );
  });
  afterAll(async () => {
    await edge?.stop('SIGKILL');
  });

  it('warns at start-up that MQTT 5 clients are refused, takes MQTT 3.1.1 and refuses MQTT 5', async () => {
    const warning = edge.logs.find((l) => l.includes('falling back to the embedded aedes broker'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, broker: 'aedes' });
    expect(warning).toContain('/nonexistent/mosquitto not found');

    const v4 = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 4, reconnectPeriod: 0 });
    await v4.publishAsync('aiot/hq/floor-44/r1/d1/telemetry', JSON.stringify({ deviceId: 'd1', ts: Date.now(), seq: 1, metrics: { co2: 600 } }), { qos: 1 });
    await v4.endAsync();
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000 })).rejects.toThrow();
    await waitFor(async () => {
      const s = JSON.parse((await getText(port, '/api/status')).text) as { floors: Record<string, { clean: number }> };
      return s.floors['floor-44']?.clean === 1;
    }, 20_000, 'floor-44 clean');
    expect(await edge.stop('SIGTERM')).toBe(0);
  });
});

/** Radon, a kind only a site's catalog file adds (Bq/m³; the WHO reference level is 300). */
const RADON = { unit: 'Bq/m3', ucum: 'Bq/m3', units: { 'Bq/m3': 'Bq/m3' }, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };

interface SiteEdge {
  edge: ServiceProcess;
  dir: string;
  port: number;
  mqttPort: number;
}

/**
 * edge-local without the simulator, reading Zigbee2MQTT, with a site's files: the built-in catalog
 * plus radon, a registry of one device, and optionally a rules file.
 */
async function startSiteEdge(prefix: string, device: object, rules?: object): Promise<SiteEdge> {
  const [port, mqttPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  writeFileSync(path.join(dir, 'catalog.json'), JSON.stringify({ version: 1, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, radon: RADON } }));
  writeFileSync(path.join(dir, 'devices.json'), JSON.stringify({ devices: [device] }));
  const env: Record<string, string> = {
    MQTT_PORT: String(mqttPort),
    SIM_ENABLED: 'false',
    HISTORY_ENABLED: 'false',
    LOG_PRETTY: 'false',
    SENSOR_CATALOG_FILE: path.join(dir, 'catalog.json'),
    DEVICE_REGISTRY_FILE: path.join(dir, 'devices.json'),
    BRIDGE_FOREIGN_FORMATS: 'zigbee2mqtt',
  };
  if (rules) {
    writeFileSync(path.join(dir, 'rules.json'), JSON.stringify(rules));
    env.ANALYTICS_RULES_FILE = path.join(dir, 'rules.json');
  }
  const edge = await startService('edge-local', env, { port });
  return { edge, dir, port, mqttPort };
}

describe("edge-local with a site's sensor catalog and device registry, reading Zigbee2MQTT", () => {
  let edge: ServiceProcess;
  let dir = '';
  let port = 0;
  let mqttPort = 0;

  beforeAll(async () => {
    const zigbee = { deviceId: 'zb-1', floor: 'floor-45', room: 'r3', kind: 'climate', source: { format: 'zigbee2mqtt', id: '0x00158d0001b79111' } };
    ({ edge, dir, port, mqttPort } = await startSiteEdge('edge-sensors-', zigbee));
  });
  afterAll(async () => {
    await edge?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('places the device by the registry, keeps the catalog kinds (radon from the site file) and drops the rest with a count', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5 });
    // The docs' sample state plus a kind only the site's catalog has and one no catalog has.
    const state = { ...FOREIGN_UPLINK_SAMPLES.zigbee2mqtt.payload, radon: 120, linkquality: 90 };
    await client.publishAsync(FOREIGN_UPLINK_SAMPLES.zigbee2mqtt.topic, JSON.stringify(state), { qos: 1 });
    await client.endAsync();
    type Status = { floors: Record<string, { clean: number; dlq: number; droppedMetrics: number; droppedByKind: Record<string, number>; rooms: Array<{ room: string; latest: Record<string, number> }> }> };
    let floor: Status['floors'][string] | undefined;
    await waitFor(async () => {
      floor = (JSON.parse((await getText(port, '/api/status')).text) as Status).floors['floor-45'];
      return floor !== undefined && floor.clean === 1 && floor.rooms.length > 0;
    }, 20_000, 'floor-45 clean, room r3 in the room state');
    expect(floor).toMatchObject({ clean: 1, dlq: 0, droppedMetrics: 1, droppedByKind: { '_unknown:unknown_metric': 1 } });
    // The room's latest values (the state the dashboard shows) hold the site-only kind too.
    expect(floor!.rooms).toEqual([expect.objectContaining({ room: 'r3', latest: { temperature: 27.34, humidity: 44.72, radon: 120 } })]);
    const metrics = (await getText(port, '/metrics')).text;
    expect(metrics).toMatch(/^aiot_ingest_metrics_dropped_total\{floor="floor-45",kind="_unknown",reason="unknown_metric"\} 1$/m);
    // The history API takes the site's kind (503 here only because HISTORY_ENABLED=false) and
    // refuses one no catalog lists with a 400 naming the accepted ones, radon among them.
    expect((await getText(port, '/api/history?floor=floor-45&room=r3&metric=radon')).status).toBe(503);
    const unknown = await getText(port, '/api/history?floor=floor-45&room=r3&metric=linkquality');
    expect([unknown.status, unknown.text]).toEqual([400, expect.stringMatching(/unknown metric \\"linkquality\\": metric must be one of .*\bradon\b/)]);
    expect(await edge.stop('SIGTERM')).toBe(0);
  });
});

/**
 * A kind added only in the site's catalog file, and a rule for it only in the rules file: radon
 * from a Zigbee2MQTT sensor in a room of type "basement" goes MQTT → bridge → ingest (clean topic)
 * → stream-analytics (windows, the threshold rule) → the dashboard's state, with the catalog's unit.
 */
describe('edge-local: a new kind from the catalog file reaches the clean topic, the dashboard and a rule', () => {
  let edge: ServiceProcess;
  let dir = '';
  let port = 0;
  let mqttPort = 0;

  beforeAll(async () => {
    const zigbee = { deviceId: 'zb-radon', floor: 'floor-46', room: 'cellar', kind: 'radon', source: { format: 'zigbee2mqtt', id: 'radon_sensor' } };
    // Only basements get the rule here.
    const rules = { version: 1, roomTypes: { cellar: 'basement' }, thresholds: [{ kind: 'radon', roomType: 'basement', above: 300, forWindows: 2, severity: 'critical' }] };
    ({ edge, dir, port, mqttPort } = await startSiteEdge('edge-rules-', zigbee, rules));
  });
  afterAll(async () => {
    await edge?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires the radon rule of the room type, naming value, threshold and unit, and the dashboard shows the kind with its unit', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5 });
    // One state a minute for six minutes of event time (last_seen, epoch ms), radon above 300.
    const MIN = 60_000;
    const start = Math.floor(Date.now() / MIN) * MIN - 8 * MIN;
    for (let i = 0; i < 7; i++) {
      const state = { radon: 400 + 10 * i, temperature: Number((21 + 0.1 * i).toFixed(1)), last_seen: start + i * MIN };
      await client.publishAsync('zigbee2mqtt/radon_sensor', JSON.stringify(state), { qos: 1 });
    }
    await client.endAsync();
    type Status = { floors: Record<string, { clean: number; dlq: number; rooms: Array<{ room: string; latest: Record<string, number> }> }> };
    await waitFor(async () => (JSON.parse((await getText(port, '/api/status')).text) as Status).floors['floor-46']?.clean === 7, 20_000, 'seven clean readings on floor-46');
    type Building = {
      kinds: Record<string, { label: string; symbol: string; decimals: number }>;
      floors: Array<{ floor: string; rooms: Array<{ room: string; values: Record<string, number> }> }>;
      alerts: Array<{ rule: string; room?: string; state: string; severity: string; value?: number; threshold?: number; metric?: string; unit?: string; message: string }>;
    };
    let building: Building | undefined;
    await waitFor(async () => {
      building = JSON.parse((await getText(port, '/api/building')).text) as Building;
      return building.alerts.some((a) => a.rule === 'radon_threshold');
    }, 30_000, 'the radon_threshold alert on the dashboard');
    const alert = building!.alerts.find((a) => a.rule === 'radon_threshold')!;
    expect(alert).toMatchObject({ room: 'cellar', state: 'firing', severity: 'critical', threshold: 300, metric: 'radon', unit: 'Bq/m³' });
    expect(alert.value).toBeGreaterThan(300);
    expect(alert.message).toMatch(/^radon \d+ Bq\/m³ above 300 Bq\/m³ for 2 window\(s\) \(room type basement\)$/);
    const room = building!.floors.find((f) => f.floor === 'floor-46')?.rooms.find((r) => r.room === 'cellar');
    expect(room?.values).toEqual({ radon: 460, temperature: 21.6 });
    expect(building!.kinds['radon']).toEqual({ label: 'Radon', symbol: 'Bq/m³', decimals: 0 });
    // stream-analytics holds it as the room's active alert (its windows aggregated radon)
    type Rooms = Array<{ room: string; latest: Record<string, number>; activeAlerts: string[] }>;
    const status = JSON.parse((await getText(port, '/api/status')).text) as { floors: Record<string, { rooms: Rooms }> };
    expect(status.floors['floor-46']!.rooms).toEqual([expect.objectContaining({ room: 'cellar', latest: { radon: 460, temperature: 21.6 }, activeAlerts: ['radon_threshold'] })]);
    expect(await edge.stop('SIGTERM')).toBe(0);
  });
});
