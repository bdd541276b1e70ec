import { brokerCtl } from '../support/brokers';
import { deleteTopicsWithPrefix } from '../support/kafka-reader';
import { waitFor } from '../support/mqtt-publisher';
import { kafkaEnv, provisionFloor } from '../support/security';
import { startService, type ServiceProcess } from '../support/service-process';

/**
 * Readiness follows the broker: with the real Kafka stopped, `/health/ready` of sensor-ingest and of
 * the dashboard service turns 503 (Kubernetes stops routing to them) while `/health/live` stays 200
 * (no restart loop for an outage the pod cannot fix); when Kafka is back, readiness returns to 200.
 */
jest.setTimeout(300_000);

const floor = `ready-${Date.now().toString(36)}`;
/** Kafka health probe every 2 s, admin request timeouts and retries: well inside this. */
const DOWN_WITHIN_MS = 60_000;
const UP_WITHIN_MS = 90_000;

const status = async (port: number, path: string): Promise<number> => {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) })).status;
  } catch {
    return 0;
  }
};

describe('readiness follows Kafka (real broker stopped and started)', () => {
  const services: Array<{ name: string; proc: ServiceProcess }> = [];

  beforeAll(async () => {
    await provisionFloor(floor);
    services.push({ name: 'sensor-ingest', proc: await startService('sensor-ingest', { ...kafkaEnv(floor), FLOOR: floor }, { port: 18681 }) });
    services.push({ name: 'dashboard', proc: await startService('dashboard', { ...kafkaEnv('aiot.dashboard'), DASHBOARD_FLOORS: floor }, { port: 18682 }) });
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.proc.stop('SIGTERM')));
    await deleteTopicsWithPrefix(`aiot.${floor}.`).catch(() => undefined);
  });

  it('ready → 503 when Kafka stops (live stays 200) → ready again when it returns', async () => {
    for (const s of services) expect(await status(s.proc.port, '/health/ready')).toBe(200);
    try {
      await brokerCtl('kafka', 'stop');
      const stoppedAt = Date.now();
      for (const s of services) {
        await waitFor(async () => (await status(s.proc.port, '/health/ready')) === 503, DOWN_WITHIN_MS - (Date.now() - stoppedAt), `${s.name} /health/ready to turn 503`);
        const body = (await (await fetch(`http://127.0.0.1:${s.proc.port}/health/ready`)).json()) as { status: string; error?: Record<string, unknown> };
        expect(body.status).toBe('error');
        expect(Object.keys(body.error ?? {})).toContain('kafka');
        expect(await status(s.proc.port, '/health/live')).toBe(200);
      }
    } finally {
      await brokerCtl('kafka', 'start');
    }
    const startedAt = Date.now();
    for (const s of services) {
      await waitFor(async () => (await status(s.proc.port, '/health/ready')) === 200, UP_WITHIN_MS - (Date.now() - startedAt), `${s.name} /health/ready to return to 200`);
    }
    for (const s of services) expect(s.proc.child.exitCode).toBeNull();
  });
});
