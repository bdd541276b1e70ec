import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SeriesResponse } from '@aiot/history';
import { freshHistoryDataDir } from '../support/history-data';
import { waitFor } from '../support/mqtt-publisher';
import { getText, startService, type ServiceProcess } from '../support/service-process';

/**
 * edge-local keeps history in PGlite in HISTORY_DATA_DIR: what it stored before a restart is
 * still there, unchanged, after it; the simulated building resumes after the last stored reading,
 * so the series continues without overlapping itself. What the rooms learnt (anomaly envelope,
 * the learning day's scores) is kept in ANALYTICS_CALIBRATION_DIR: a restarted room goes on
 * learning where it stopped instead of starting its day again.
 */
jest.setTimeout(240_000);

const HTTP_PORT = 18486;
const MQTT_PORT = 11886;
const MIN = 60_000;

describe('edge-local history survives a restart', () => {
  let dataDir: string;
  let calibrationDir: string;
  let edge: ServiceProcess | undefined;
  const env = () => ({
    MQTT_PORT: String(MQTT_PORT),
    SIM_FLOORS: '1',
    SIM_ROOMS: '2',
    SIM_SPEED: '600', // ten simulated minutes per second
    HISTORY_DATA_DIR: dataDir,
    ANALYTICS_CALIBRATION_DIR: calibrationDir,
    HISTORY_ROLLUP_INTERVAL_MS: '500',
    LOG_PRETTY: 'false',
  });
  const series = async (from: number, to: number) => {
    const res = await getText(HTTP_PORT, `/api/history?floor=floor-1&room=r01&metric=co2,temperature&from=${from}&to=${to}&step=1m`);
    expect(res.status).toBe(200);
    return JSON.parse(res.text) as SeriesResponse;
  };
  const points = (s: SeriesResponse, metric: string) => s.series.find((x) => x.metric === metric)!.points;

  beforeAll(async () => {
    dataDir = freshHistoryDataDir();
    calibrationDir = mkdtempSync(path.join(tmpdir(), 'aiot-edge-calibration-'));
  });

  afterAll(async () => {
    await edge?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(calibrationDir, { recursive: true, force: true });
  });

  it('keeps every stored minute across a SIGTERM restart, continues after it, and refuses a second process on the directory', async () => {
    const from = Date.now() - MIN;
    const to = from + 6 * 24 * 60 * MIN; // six simulated days at 1-minute steps: within the API's point limit
    edge = await startService('edge-local', env(), { port: HTTP_PORT });
    await waitFor(async () => points(await series(from, to), 'co2').length >= 30, 120_000, '30 simulated minutes of CO2 in the history');
    expect(await edge.stop('SIGTERM')).toBe(0);
    edge = undefined;
    const status0 = from; // everything the first run stored lies after `from`
    // saved at stop: r01's learnt windows and the anomaly model's learning-day scores so far
    const saved = JSON.parse(readFileSync(path.join(calibrationDir, 'floor-1.json'), 'utf8')) as {
      floor: string;
      rooms: Record<string, { baselines: { anomaly: { baseline: { accepted: number } } }; limits?: { anomaly: { scores: number[] } } }>;
    };
    expect(saved.floor).toBe('floor-1');
    const learned = saved.rooms['r01']!.baselines.anomaly.baseline.accepted;
    expect(learned).toBeGreaterThanOrEqual(25);
    expect(saved.rooms['r01']!.limits!.anomaly.scores.length).toBeGreaterThan(0);

    edge = await startService('edge-local', env(), { port: HTTP_PORT });
    // the room goes on learning from there: its learning notice counts on from the saved windows
    // (the feed may also hold the first run's notice, "1 of 1440": the highest count is this run's)
    const learningNoticeAt = async () =>
      Math.max(
        -1,
        ...(JSON.parse((await getText(HTTP_PORT, '/api/alerts?room=r01&rule=anomaly_learning')).text) as Array<{ room?: string; message: string }>)
          .filter((a) => a.room === 'r01')
          .map((a) => Number(/\((\d+) of \d+ windows\)/.exec(a.message)?.[1] ?? -1)),
      );
    await waitFor(async () => (await learningNoticeAt()) > 1, 60_000, "r01's anomaly_learning notice after the restart");
    expect(await learningNoticeAt()).toBeGreaterThan(learned);
    const before = await series(status0, to);
    const co2Before = points(before, 'co2');
    expect(co2Before.length).toBeGreaterThanOrEqual(30);
    expect(edge.logs.join('\n')).toMatch(/"latestReading":"\d{4}-/);

    // The second run adds minutes after the last stored one and rewrites none of the old ones.
    const lastBefore = co2Before.at(-1)!.t;
    await waitFor(async () => points(await series(status0, to), 'co2').some((p) => p.t > lastBefore + 10 * MIN), 120_000, 'new minutes after the restart');
    const after = await series(status0, to);
    const co2After = points(after, 'co2');
    const old = co2After.filter((p) => p.t <= lastBefore);
    expect(old).toEqual(co2Before);
    // One CO2 sensor per room, one reading per simulated minute: no minute holds two readings.
    expect(co2After.every((p) => p.count === 1)).toBe(true);
    const status = JSON.parse((await getText(HTTP_PORT, '/api/status')).text) as { history: { enabled: boolean; dataDir: string; rows: { readings: { inserted: number } } } };
    expect(status.history).toMatchObject({ enabled: true, dataDir });
    expect(status.history.rows.readings.inserted).toBeGreaterThan(0);

    // A second edge-local on the same directory is refused while this one runs (PGlite is one process's database).
    const second = await startService('edge-local', { ...env(), MQTT_PORT: String(MQTT_PORT + 1) }, { port: HTTP_PORT + 1, waitReady: false });
    expect(await second.exited).toBe(1);
    expect(second.logs.join('\n')).toMatch(/history data directory .* is in use by process \d+/);

    expect(await edge.stop('SIGTERM')).toBe(0);
    edge = undefined;
  });
});
