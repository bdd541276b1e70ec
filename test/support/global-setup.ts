import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// Relative import: the global setup runs outside jest's module mapping (no @aiot/* aliases).
import { PLATFORM_IDENTITIES, accessPlan } from '../../libs/contracts/src/lib/access.policy';

/** Site of the test topics (test/support/security.ts: TEST_SITE). */
const SITE = 'hq';

/**
 * Starts the real brokers (Debian's Mosquitto and Apache Kafka in KRaft mode) before the
 * integration and e2e projects, with authentication and ACLs on, then runs the access step for
 * the platform's identities exactly as the chart's access Job does: `edgectl access apply`.
 * The scripts and the step are idempotent, so a second project reuses them. A broker that cannot
 * start fails the run: these tests are never skipped.
 */
export default function globalSetup(): void {
  const root = path.resolve(__dirname, '../..');
  try {
    execFileSync('bash', [path.join(root, 'test/infra/up.sh')], { stdio: 'inherit', cwd: root, timeout: 600_000 });
  } catch (err) {
    throw new Error(
      `real brokers could not be started (test/infra/up.sh failed: ${(err as Error).message}). ` +
        'Integration tests need Mosquitto and Kafka; see test/infra/README.md.',
    );
  }
  platformAccessStep(root);
}

/**
 * The access step for the platform's identities (site `hq`), as the chart's Job runs it:
 * `edgectl access apply --platform`. Idempotent; nothing to do with security off.
 */
export function platformAccessStep(root: string): void {
  if ((process.env['AIOT_TEST_SECURITY'] ?? 'on') !== 'on') return;
  const infra = process.env['AIOT_INFRA_DIR'] ?? path.join(root, '.infra');
  const secrets = path.join(infra, 'secrets');
  const plan = accessPlan({ site: SITE, floors: [], platform: true, partitions: 3, replicationFactor: 1 });
  for (const [broker, ids] of [['kafka', plan.kafka.users], ['mqtt', plan.mqtt.clients.map((c) => c.username)]] as const) {
    for (const id of ids) {
      const file = path.join(secrets, `${broker}-${id}`);
      if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600 });
    }
  }
  const edgectl = path.join(root, 'dist/apps/edgectl/src/main.js');
  if (!existsSync(edgectl)) throw new Error(`${edgectl} is missing: run \`npm run build\` first (npm test does)`);
  const kafkaPort = process.env['AIOT_TEST_KAFKA_PORT'] ?? '19092';
  const mqttPort = process.env['AIOT_TEST_MQTT_PORT'] ?? '11883';
  const started = Date.now();
  execFileSync(
    process.execPath,
    [edgectl, 'access', 'apply', '--platform', '--site', SITE, '--credentials-dir', secrets, '--partitions', '3', '--replication-factor', '1', '--reset-mqtt-passwords'],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: root,
      timeout: 120_000,
      env: {
        PATH: process.env['PATH'] ?? '',
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: PLATFORM_IDENTITIES.admin,
        KAFKA_SASL_PASSWORD_FILE: path.join(secrets, 'kafka-admin'),
        KAFKA_TLS_CA_FILE: path.join(infra, 'pki', 'ca.crt'),
        MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
        MQTT_USERNAME: PLATFORM_IDENTITIES.admin,
        MQTT_PASSWORD_FILE: path.join(secrets, 'mqtt-admin'),
      },
    },
  );
  process.stderr.write(`[setup] access step for ${Object.values(PLATFORM_IDENTITIES).filter((i) => i !== PLATFORM_IDENTITIES.admin).join(', ')}: ${Date.now() - started} ms\n`);
}
