import 'reflect-metadata';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { kafkaTopic, type Alert, type CleanReading } from '@aiot/contracts';
import { InProcessEventBus } from '@aiot/messaging';
import { AiotMetrics, ObservabilityModule } from '@aiot/observability';
import { BuildingStateService } from './building-state.service';
import type { AlertEntry, BuildingSnapshot, RoomDetail } from './dashboard.api';
import { DashboardModule } from './dashboard.module';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

describe('DashboardModule over HTTP', () => {
  let app: INestApplication;
  let bus: InProcessEventBus;
  let state: BuildingStateService;
  let base: string;
  const metrics = new AiotMetrics({ defaultMetrics: false });

  beforeAll(async () => {
    const web = mkdtempSync(path.join(tmpdir(), 'dash-web-'));
    mkdirSync(path.join(web, 'assets'));
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>AIoT</title>');
    writeFileSync(path.join(web, 'assets', 'app-abc123.js'), 'console.log(1)');
    bus = new InProcessEventBus();
    state = new BuildingStateService(bus, { deltaIntervalMs: 20 });
    @Module({ imports: [ObservabilityModule.forRoot({ metrics }), DashboardModule.forRoot({ state, webRoot: web, sse: { heartbeatMs: 50 } })] })
    class TestModule {}
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    await state.start();
    const reading: CleanReading = { site: 'hq', floor: 'floor-1', room: 'r01', deviceId: 'floor-1-r01-co2', ts: T0, seq: 1, metrics: { co2: 640 }, ingestedAt: T0 };
    const alert: Alert = { id: 'a-1', site: 'hq', floor: 'floor-1', room: 'r01', deviceId: 'floor-1-r01-co2', rule: 'sensor_stuck', severity: 'warning', state: 'firing', message: 'stuck', ts: T0 };
    await bus.publish([
      { topic: kafkaTopic('floor-1', 'telemetry.clean'), value: JSON.stringify(reading) },
      { topic: kafkaTopic('floor-1', 'alerts'), value: JSON.stringify(alert) },
    ]);
    const deadline = Date.now() + 2000;
    while (state.alerts().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  });
  afterAll(async () => {
    await state.stop();
    await app.close();
    await bus.close();
  });

  const get = async <T>(p: string) => {
    const res = await fetch(base + p);
    return { status: res.status, body: (await res.json()) as T };
  };

  it('serves the snapshot, room detail, filtered alerts, models and services', async () => {
    const snap = await get<BuildingSnapshot>('/api/building');
    expect(snap.body.floors[0]!.rooms[0]).toMatchObject({ floor: 'floor-1', room: 'r01', values: { co2: 640 }, state: 'warn' });
    const room = await get<RoomDetail>('/api/rooms/floor-1/r01');
    expect(room.body.sparklines.co2).toEqual([[T0, 640]]);
    expect((await get('/api/rooms/floor-1/nope')).status).toBe(404);
    expect((await get<AlertEntry[]>('/api/alerts?floor=floor-1&rule=sensor_stuck')).body.map((a) => a.id)).toEqual(['a-1']);
    expect((await get<AlertEntry[]>('/api/alerts?floor=floor-2')).body).toEqual([]);
    expect((await get('/api/alerts?floor=Not_A_Floor')).status).toBe(400);
    expect((await get('/api/models')).body).toEqual([]);
    expect((await get<unknown[]>('/api/services')).body.length).toBeGreaterThan(0);
  });

  it('acknowledges an alert by id (404 for an unknown one, 400 for a bad body)', async () => {
    const post = (id: string, body: unknown) => fetch(`${base}/api/alerts/${id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('nope', {})).status).toBe(404);
    expect((await post('a-1', { by: 42 })).status).toBe(400);
    const res = await post('a-1', { by: 'ops' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'a-1', acked: true, ackedBy: 'ops' });
  });

  it('streams a snapshot, then deltas and heartbeats, over Server-Sent Events', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${base}/api/events`, { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (re: RegExp) => {
      const deadline = Date.now() + 3000;
      while (!re.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${re} in ${text.slice(0, 300)}`);
        const { value } = await reader.read();
        text += Buffer.from(value!).toString();
      }
    };
    await readUntil(/event: snapshot\n/);
    const reading: CleanReading = { site: 'hq', floor: 'floor-1', room: 'r02', deviceId: 'floor-1-r02-co2', ts: T0, seq: 1, metrics: { co2: 700 }, ingestedAt: T0 };
    await bus.publish([{ topic: kafkaTopic('floor-1', 'telemetry.clean'), value: JSON.stringify(reading) }]);
    await readUntil(/event: delta\nid: \d+\ndata: .*"room":"r02"/);
    await readUntil(/: heartbeat \d+/);
    expect(await metrics.metricsText()).toMatch(/^aiot_dashboard_sse_clients 1$/m);
    ctrl.abort();
    const deadline = Date.now() + 2000;
    while (!/^aiot_dashboard_sse_clients 0$/m.test(await metrics.metricsText())) {
      if (Date.now() > deadline) throw new Error('SSE client not cleaned up');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('serves the built page at / with cache headers, and keeps /api, /health and /metrics its own', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<title>AIoT</title>');
    const asset = await fetch(`${base}/assets/app-abc123.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('aiot_dashboard_records_total');
  });
});
