import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

/** Endpoints of the test brokers started by test/infra (ports chosen not to clash with edge-local). */
export const KAFKA_BROKERS = [`127.0.0.1:${process.env['AIOT_TEST_KAFKA_PORT'] ?? '19092'}`];
export const MQTT_URL = `mqtt://127.0.0.1:${process.env['AIOT_TEST_MQTT_PORT'] ?? '11883'}`;

/** The same brokers behind toxiproxy (test/infra/toxiproxy.sh): Kafka's PROXIED listener and Mosquitto. */
export const KAFKA_PROXY_BROKERS = [`127.0.0.1:${process.env['AIOT_TEST_KAFKA_PROXY_PORT'] ?? '19095'}`];
export const MQTT_PROXY_URL = `mqtt://127.0.0.1:${process.env['AIOT_TEST_MQTT_PROXY_PORT'] ?? '11884'}`;
export const TOXIPROXY_URL = `http://127.0.0.1:${process.env['AIOT_TEST_TOXIPROXY_PORT'] ?? '18474'}`;

/** Runs `test/infra/<broker>.sh <action>` (start, stop, kill, restart, reset, save). */
export async function brokerCtl(
  broker: 'kafka' | 'mosquitto' | 'toxiproxy',
  action: 'start' | 'stop' | 'kill' | 'restart' | 'status' | 'reset' | 'save',
): Promise<void> {
  await run('bash', [path.join(root, `test/infra/${broker}.sh`), action], { cwd: root, timeout: 180_000 });
}

export const REPO_ROOT = root;

/** Where test/infra keeps binaries, configs, data and pid files. */
export const INFRA_DIR = process.env['AIOT_INFRA_DIR'] ?? path.join(root, '.infra');

/** Pid of the running test Mosquitto (from its pid file). */
export function mosquittoPid(): number {
  return Number(readFileSync(path.join(INFRA_DIR, 'mosquitto/mosquitto.pid'), 'utf8').trim());
}
