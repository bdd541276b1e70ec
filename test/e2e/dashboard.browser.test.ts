/// <reference lib="dom" />
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEFAULT_SENSOR_CATALOG, type Alert, type CleanReading, type Prediction } from '@aiot/contracts';
import mqtt from 'mqtt';
import type { SeriesResponse } from '@aiot/history';
import { REPO_ROOT } from '../support/brokers';
import { freshHistoryDataDir, seedHistory } from '../support/history-data';
import { getText, startService, type ServiceProcess } from '../support/service-process';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), against a real
 * edge-local process running the default simulated building (3 floors × 8 rooms): every room
 * populates live over Server-Sent Events, a stuck CO2 sensor injected through the simulator
 * raises a `sensor_stuck` alert (stream-analytics) that shows in the feed and colours the room,
 * it is acknowledged from the page, a kind only the site's catalog file has (radon) shows on its
 * room's tile and in the detail with the catalog's unit, the room's history chart shows a week of stored readings with
 * occupancy and alerts overlaid, and screenshots land in test-output/screenshots/.
 */
jest.setTimeout(300_000);

const HTTP_PORT = 18490;
const MQTT_PORT = 11885;
const BASE = `http://127.0.0.1:${HTTP_PORT}`;
const SHOTS = path.join(REPO_ROOT, 'test-output', 'screenshots');
const FLOORS = ['floor-1', 'floor-2', 'floor-3'];
const ROOMS = ['r01', 'r02', 'r03', 'r04', 'r05', 'r06', 'r07', 'r08'];
const FAULT = { type: 'stuck', floor: 'floor-1', room: 'r01', kind: 'co2' } as const;
const STUCK_DEVICE = 'floor-1-r01-co2';
/** How long stream-analytics may take to call the sensor stuck (a few event-time windows at SIM_SPEED 60). */
const ALERT_TIMEOUT_MS = 120_000;
const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * A week of history for floor-1/r01 before now, as a running store would hold it: CO2 and
 * temperature every 5 minutes, the occupancy model saying "occupied" from 09:00 to 17:00 UTC,
 * and one CO2 alert that fired and resolved two days ago.
 */
function lastWeek(now: number): { batch: { readings: CleanReading[]; predictions: Prediction[]; alerts: Alert[] }; firing: number } {
  const start = Math.floor((now - 7 * 24 * HOUR) / (5 * MIN)) * 5 * MIN;
  const readings: CleanReading[] = [];
  const predictions: Prediction[] = [];
  let seq = 0;
  for (let t = start; t < now - 10 * MIN; t += 5 * MIN) {
    const hour = new Date(t).getUTCHours();
    const occupied = hour >= 9 && hour < 17;
    readings.push({ site: 'hq', floor: 'floor-1', room: 'r01', deviceId: 'seed-r01-co2', ts: t, seq, metrics: { co2: occupied ? 700 + 300 * Math.sin(((hour - 9) / 8) * Math.PI) : 450 }, ingestedAt: t });
    readings.push({ site: 'hq', floor: 'floor-1', room: 'r01', deviceId: 'seed-r01-temperature', ts: t, seq, metrics: { temperature: occupied ? 22 : 19 }, ingestedAt: t });
    predictions.push({ id: `r01.occupancy.seed.${t}`, site: 'hq', floor: 'floor-1', room: 'r01', model: 'occupancy', modelVersion: 'seed', windowStart: t, windowEnd: t + 5 * MIN, label: occupied ? 1 : 0, probability: occupied ? 0.95 : 0.05, ts: t + 5 * MIN });
    seq++;
  }
  const firing = Math.floor((now - 2 * 24 * HOUR) / HOUR) * HOUR;
  const alert = (state: Alert['state'], ts: number): Alert => ({ id: 'r01.co2_high.seed', site: 'hq', floor: 'floor-1', room: 'r01', rule: 'co2_high', severity: 'warning', state, message: 'CO2 1210 ppm above 1000 ppm: ventilate', ts, value: 1210, threshold: 1000 });
  return { batch: { readings, predictions, alerts: [alert('firing', firing), alert('resolved', firing + 2 * HOUR)] }, firing };
}

describe('dashboard in a browser (edge-local, default building)', () => {
  let edge: ServiceProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const apiRequests: string[] = [];
  let historyDir: string;
  let seeded: ReturnType<typeof lastWeek>;
  let catalogDir: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    historyDir = freshHistoryDataDir();
    seeded = lastWeek(Date.now());
    const written = seedHistory(historyDir, seeded.batch);
    expect(written.readings.inserted).toBe(seeded.batch.readings.length);
    // The default catalog plus a kind only this site has.
    catalogDir = mkdtempSync(path.join(tmpdir(), 'dashboard-catalog-'));
    const radon = { unit: 'Bq/m3', ucum: 'Bq/m3', units: { 'Bq/m3': 'Bq/m3' }, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };
    writeFileSync(path.join(catalogDir, 'catalog.json'), JSON.stringify({ version: 1, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, radon } }));
    edge = await startService(
      'edge-local',
      { MQTT_PORT: String(MQTT_PORT), LOG_PRETTY: 'false', HISTORY_DATA_DIR: historyDir, SENSOR_CATALOG_FILE: path.join(catalogDir, 'catalog.json') },
      { port: HTTP_PORT },
    );
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(`console: ${m.text()}`));
    page.on('request', (r) => new URL(r.url()).pathname.startsWith('/api/') && apiRequests.push(new URL(r.url()).pathname));
  });

  afterAll(async () => {
    await browser?.close();
    await edge?.stop('SIGTERM');
    if (historyDir) rmSync(historyDir, { recursive: true, force: true });
    if (catalogDir) rmSync(catalogDir, { recursive: true, force: true });
  });

  it('serves the built page at / (no CDN: every asset comes from the service itself)', async () => {
    const res = await getText(HTTP_PORT, '/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<div id="app">');
    const external = [...res.text.matchAll(/(?:src|href)="(https?:)?\/\/[^"]+"/g)].map((m) => m[0]);
    expect(external).toEqual([]);
  });

  it('shows every room of the default building with live values, pushed over SSE (no polling)', async () => {
    const offsite: string[] = [];
    page.on('request', (r) => !r.url().startsWith(BASE) && !r.url().startsWith('data:') && offsite.push(r.url()));
    await page.goto(`${BASE}/`);
    await page.waitForFunction(
      (n) => document.querySelectorAll('button[data-testid^="room-"][data-has-values="true"]').length >= n,
      FLOORS.length * ROOMS.length,
      { timeout: 60_000, polling: 250 },
    );
    for (const f of FLOORS) for (const r of ROOMS) await expect(page.getByTestId(`room-${f}-${r}`).getAttribute('data-has-values')).resolves.toBe('true');
    await expect(page.getByTestId('connection').textContent()).resolves.toContain('live');
    const temp = await page.getByTestId('room-floor-2-r05').getByTestId('value-temperature').textContent();
    expect(temp).toMatch(/\d+\.\d\s*°C/);

    // Live: values keep changing without a reload, and the page asks /api for nothing meanwhile
    // (the one long-lived /api/events stream carries everything).
    const before = apiRequests.length;
    const r0 = Number((await page.getByTestId('kpi-readings').textContent())!.replace(/,/g, ''));
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="kpi-readings"]')!.textContent!.replace(/,/g, '')) > n,
      r0,
      { timeout: 20_000 },
    );
    await page.waitForTimeout(3000);
    expect(apiRequests.slice(before)).toEqual([]);
    expect(apiRequests.filter((p) => p === '/api/events')).toHaveLength(1);
    expect(offsite).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-building.png'), fullPage: true });
  });

  it('opens a room detail with last-hour sparklines, and closes it', async () => {
    await page.getByTestId('room-floor-1-r01').click();
    const dialog = page.getByTestId('room-detail');
    await dialog.waitFor();
    await expect(dialog.getByRole('heading', { name: 'Room r01' }).isVisible()).resolves.toBe(true);
    for (const m of ['temperature', 'humidity', 'co2', 'light']) {
      await dialog.getByTestId(`spark-${m}`).locator('svg path.spark-line').waitFor({ timeout: 20_000 });
    }
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-room-detail.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it("shows a kind from the site's catalog file (radon) on the tile and in the detail, with the catalog's unit", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, { protocolVersion: 5 });
    const reading = { deviceId: 'floor-2-r03-radon', ts: Date.now(), seq: 1, metrics: { radon: { value: 412, unit: 'Bq/m3' } } };
    await client.publishAsync('aiot/hq/floor-2/r03/floor-2-r03-radon/telemetry', JSON.stringify(reading), { qos: 1 });
    await client.endAsync();
    const value = page.getByTestId('room-floor-2-r03').getByTestId('value-radon');
    await value.waitFor({ timeout: 30_000 });
    await expect(value.textContent()).resolves.toBe('412Bq/m³');
    await page.getByTestId('room-floor-2-r03').click();
    const dialog = page.getByTestId('room-detail');
    await dialog.waitFor();
    const card = dialog.getByTestId('spark-radon');
    await card.waitFor({ timeout: 20_000 });
    await expect(card.locator('figcaption').textContent()).resolves.toBe('Radon412 Bq/m³');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-room-radon.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(pageErrors).toEqual([]);
  });

  it('shows a stuck CO2 sensor as a sensor_stuck alert in the feed, colours the room, and acknowledges it', async () => {
    const tile = page.getByTestId('room-floor-1-r01');
    const alertsBefore = Number(await tile.getAttribute('data-alerts'));
    const res = await fetch(`${BASE}/api/simulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(FAULT) });
    expect(res.status).toBe(201);

    const item = page.locator(`li[data-rule="sensor_stuck"][data-device="${STUCK_DEVICE}"]`).first();
    try {
      await item.waitFor({ timeout: ALERT_TIMEOUT_MS });
    } catch (err) {
      const status = await getText(HTTP_PORT, '/api/services');
      throw new Error(
        `no sensor_stuck alert for ${STUCK_DEVICE} within ${ALERT_TIMEOUT_MS} ms. Alerts come from stream-analytics; ` +
          `is it running in edge-local? /api/services: ${status.text}\n${(err as Error).message}`,
      );
    }
    const testId = (await item.getAttribute('data-testid'))!;
    const id = testId.slice('alert-'.length);
    await expect(item.getAttribute('data-floor')).resolves.toBe('floor-1');
    await expect(item.getAttribute('data-room')).resolves.toBe('r01');

    // the room tile changes state and counts the alert
    await page.waitForFunction(
      ([sel, n]) => {
        const el = document.querySelector(sel as string);
        return !!el && ['warn', 'alert'].includes(el.getAttribute('data-state') ?? '') && Number(el.getAttribute('data-alerts')) > (n as number);
      },
      [`[data-testid="room-floor-1-r01"]`, alertsBefore] as const,
      { timeout: 15_000 },
    );
    await expect(page.getByTestId('room-alerts-floor-1-r01').textContent()).resolves.toMatch(/\d+ alerts?/);

    // the filters narrow the feed: floor-2 hides it, floor-1 + sensor_stuck shows it
    await page.getByTestId('alert-filter-floor').selectOption('floor-2');
    await expect(page.getByTestId(testId).count()).resolves.toBe(0);
    await page.getByTestId('alert-filter-floor').selectOption('floor-1');
    await page.getByTestId('alert-filter-rule').selectOption('sensor_stuck');
    await page.getByTestId(testId).waitFor();
    const shown = await page.locator('li[data-rule]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-floor')}/${e.getAttribute('data-rule')}`));
    expect(new Set(shown)).toEqual(new Set(['floor-1/sensor_stuck']));
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-building-alert.png'), fullPage: true });

    // acknowledge from the page; the server holds it (a reload would show it too)
    await page.getByTestId(`ack-${id}`).click();
    await page.getByTestId(`acked-${id}`).waitFor({ timeout: 10_000 });
    await expect(page.getByTestId(testId).getAttribute('data-acked')).resolves.toBe('true');
    const api = JSON.parse((await getText(HTTP_PORT, `/api/alerts?floor=floor-1&rule=sensor_stuck`)).text) as Array<{ id: string; acked: boolean }>;
    expect(api.find((a) => a.id === id)?.acked).toBe(true);

    await tile.click();
    const dialog = page.getByTestId('room-detail');
    await dialog.waitFor();
    await dialog.getByTestId('spark-co2').locator('svg path.spark-line').waitFor();
    await expect(dialog.getByTestId('room-detail-state').textContent()).resolves.toMatch(/Warning|Alert/);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-room-detail-alert.png') });
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });

  it("charts the room's stored week in its detail: CO2 with occupancy and alerts overlaid, the same numbers as the API", async () => {
    await page.getByTestId('room-floor-1-r01').click();
    const dialog = page.getByTestId('room-detail');
    await dialog.waitFor();
    const chart = dialog.getByTestId('history-chart');
    await dialog.locator('[data-testid="history-chart"][data-range="24h"]').waitFor({ timeout: 30_000 });
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(200); // 5-minute steps over the last day

    await dialog.getByTestId('history-range-7d').click();
    await dialog.locator('[data-testid="history-chart"][data-range="7d"]').waitFor({ timeout: 30_000 });
    const points = Number(await chart.getAttribute('data-points'));
    expect(points).toBeGreaterThanOrEqual(7 * 48 - 2); // 30-minute steps over the week
    expect(await chart.getAttribute('data-resolution')).toBe('15m'); // the rollup the 30-minute step picks
    // Occupied 09:00–17:00 every day: 16 half-hours a day, about a third of the week's steps.
    const bands = Number(await chart.getAttribute('data-occupied-bands'));
    expect(bands).toBeGreaterThanOrEqual(6 * 16);
    expect(bands).toBeLessThanOrEqual(8 * 16);
    await expect(dialog.getByTestId('history-occupied').count()).resolves.toBe(bands);
    const marks = dialog.locator('[data-testid="history-alert"][data-rule="co2_high"]');
    await expect(marks.count()).resolves.toBeGreaterThanOrEqual(1);
    await expect(dialog.getByTestId('history-line').getAttribute('d')).resolves.toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+/);

    // The chart plots what the API returns for the same window.
    const csvHref = (await dialog.getByTestId('history-csv').getAttribute('href'))!;
    const q = new URL(csvHref, BASE).searchParams;
    const api = JSON.parse(
      (await getText(HTTP_PORT, `/api/history?floor=floor-1&room=r01&metric=co2&from=${q.get('from')}&to=${q.get('to')}&step=30m`)).text,
    ) as SeriesResponse;
    expect(api.series[0]!.points.length).toBe(points);
    const csv = await getText(HTTP_PORT, csvHref);
    expect(csv.status).toBe(200);
    expect(csv.text.split('\r\n')[0]).toBe('time,floor,room,metric,avg,min,max,count');

    await dialog.getByTestId('history-range-30d').click();
    await dialog.locator('[data-testid="history-chart"][data-range="30d"]').waitFor({ timeout: 30_000 });
    expect(await chart.getAttribute('data-resolution')).toBe('1h');
    await dialog.getByTestId('history-range-7d').click();
    await dialog.locator('[data-testid="history-chart"][data-range="7d"]').waitFor({ timeout: 30_000 });
    await dialog.getByTestId('history').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-room-history.png') });
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });
});
