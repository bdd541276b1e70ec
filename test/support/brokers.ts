import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

/** Endpoints of the test brokers started by test/infra (ports chosen not to clash with edge-local). */
export const KAFKA_BROKERS = [`127.0.0.1:${process.env['AIOT_TEST_KAFKA_PORT'] ?? '19092'}`];
export const MQTT_URL = `mqtt://127.0.0.1:${process.env['AIOT_TEST_MQTT_PORT'] ?? '11883'}`;

/** Runs `test/infra/<broker>.sh <action>` (start, stop, kill, restart). */
export async function brokerCtl(broker: 'kafka' | 'mosquitto', action: 'start' | 'stop' | 'kill' | 'restart' | 'status'): Promise<void> {
  await run('bash', [path.join(root, `test/infra/${broker}.sh`), action], { cwd: root, timeout: 180_000 });
}

export const REPO_ROOT = root;
