import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FOREIGN_UPLINK_FILTERS, PLATFORM_IDENTITIES, accessPlan, type AccessPlan, type MqttAclRule } from '@aiot/contracts';
import { DynsecAdmin, applyAccess, type AccessCredentials, type KafkaSecurityOptions } from '@aiot/messaging';
import { KAFKA_BROKERS, MQTT_URL, REPO_ROOT } from './brokers';

/**
 * Identities for the tests. The test brokers (test/infra) run with authentication and ACLs on,
 * the way a site does: every component under test connects as the identity it has in the
 * cluster (the bridge as `aiot.bridge`, a floor's services as the floor), and test fixtures that
 * create topics or read results use the admin identity.
 */
export const INFRA_DIR = process.env['AIOT_INFRA_DIR'] ?? path.join(REPO_ROOT, '.infra');
export const SECRETS_DIR = path.join(INFRA_DIR, 'secrets');
/** Passwords of the floors the tests provision (created on first use, kept). */
export const FLOOR_SECRETS_DIR = path.join(SECRETS_DIR, 'floors');
export const CA_FILE = path.join(INFRA_DIR, 'pki', 'ca.crt');
export const ROGUE_CA_FILE = path.join(INFRA_DIR, 'pki', 'rogue-ca.crt');
export const MQTT_TLS_URL = `mqtts://127.0.0.1:${process.env['AIOT_TEST_MQTT_TLS_PORT'] ?? '18883'}`;
/** The site of every MQTT topic in the tests. */
export const TEST_SITE = 'hq';
export const ADMIN = PLATFORM_IDENTITIES.admin;
export const SECURITY_ON = (process.env['AIOT_TEST_SECURITY'] ?? 'on') === 'on';

/** Where an identity's password for one broker is kept (test/infra's layout, also a Secret's). */
export function passwordFile(broker: 'kafka' | 'mqtt', identity: string): string {
  // test/infra keeps the admin's passwords in kafka-admin and mqtt-admin.
  if (identity === ADMIN) return path.join(SECRETS_DIR, `${broker}-admin`);
  const platform = path.join(SECRETS_DIR, `${broker}-${identity}`);
  return identity.startsWith('aiot.') ? platform : path.join(FLOOR_SECRETS_DIR, `${broker}-${identity}`);
}

export function password(broker: 'kafka' | 'mqtt', identity: string): string {
  return readFileSync(passwordFile(broker, identity), 'utf8').trim();
}

/** kafkajs security of `identity` (SCRAM-SHA-512 over TLS with the test CA). */
export function kafkaSecurity(identity: string): KafkaSecurityOptions | undefined {
  if (!SECURITY_ON) return undefined;
  return { sasl: { mechanism: 'scram-sha-512', username: identity, password: password('kafka', identity) }, tls: { ca: readFileSync(CA_FILE, 'utf8') } };
}

/** Environment of a service process that connects to Kafka as `identity`. */
export function kafkaEnv(identity: string): Record<string, string> {
  const env: Record<string, string> = { KAFKA_BROKERS: KAFKA_BROKERS.join(','), KAFKA_COMPRESSION: 'none', KAFKA_REPLICATION_FACTOR: '1' };
  if (!SECURITY_ON) return env;
  return {
    ...env,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: identity,
    KAFKA_SASL_PASSWORD_FILE: passwordFile('kafka', identity),
    KAFKA_TLS_CA_FILE: CA_FILE,
  };
}

/** mqtt.js username/password of `identity`. */
export function mqttAuth(identity: string): { username?: string; password?: string } {
  if (!SECURITY_ON) return {};
  return { username: identity, password: password('mqtt', identity) };
}

/** Environment of a service process that connects to MQTT as `identity`. */
export function mqttEnv(identity: string): Record<string, string> {
  if (!SECURITY_ON) return { MQTT_URL };
  return { MQTT_URL, MQTT_USERNAME: identity, MQTT_PASSWORD_FILE: passwordFile('mqtt', identity) };
}

const adminTargets = () => ({
  kafka: { brokers: KAFKA_BROKERS, security: kafkaSecurity(ADMIN)! },
  mqtt: { url: MQTT_URL, username: ADMIN, password: password('mqtt', ADMIN) },
});

const newPassword = () => randomBytes(24).toString('base64url');

function ensurePasswords(identities: { kafka: string[]; mqtt: string[] }): AccessCredentials {
  mkdirSync(FLOOR_SECRETS_DIR, { recursive: true, mode: 0o700 });
  const out: AccessCredentials = { kafka: {}, mqtt: {} };
  for (const broker of ['kafka', 'mqtt'] as const) {
    for (const id of identities[broker]) {
      const file = passwordFile(broker, id);
      try {
        out[broker][id] = readFileSync(file, 'utf8').trim();
      } catch {
        out[broker][id] = newPassword();
        writeFileSync(file, out[broker][id], { mode: 0o600 });
      }
    }
  }
  return out;
}

/**
 * The access step for the tests' platform part: the platform identities (their passwords are
 * created once in test/infra's secrets directory) and site `hq`. Run by the global setup.
 */
export async function provisionPlatform(): Promise<AccessPlan> {
  const plan = accessPlan({ site: TEST_SITE, floors: [], platform: true, partitions: 3, replicationFactor: 1 });
  const creds = ensurePasswords({ kafka: plan.kafka.users, mqtt: plan.mqtt.clients.map((c) => c.username) });
  await applyAccess(plan, adminTargets(), creds, { resetMqttPasswords: true });
  return plan;
}

/**
 * The access step for one floor, as the chart's access Job runs it: the floor's topics (3
 * partitions), its Kafka and MQTT identities and every ACL of and on the floor. Replaces the
 * fixtures' former "create the topics" step; idempotent.
 */
export async function provisionFloor(floor: string, options: { only?: 'mqtt' } = {}): Promise<void> {
  const plan = accessPlan({ site: TEST_SITE, floors: [floor], platform: false, partitions: 3, replicationFactor: 1 });
  if (!SECURITY_ON) {
    await applyAccess({ ...plan, kafka: { users: [], acls: [], topics: plan.kafka.topics } }, { kafka: { brokers: KAFKA_BROKERS, security: {} } }, { kafka: {}, mqtt: {} });
    return;
  }
  const creds = ensurePasswords({ kafka: plan.kafka.users, mqtt: plan.mqtt.clients.map((c) => c.username) });
  const { kafka, mqtt } = adminTargets();
  // Reset: a floor id can come back in a later run with the password kept in its file.
  await applyAccess(plan, options.only === 'mqtt' ? { mqtt } : { kafka, mqtt }, creds, { resetMqttPasswords: true });
}

/** A test-only MQTT identity that may read Mosquitto's $SYS counters (nothing else). */
export const SYS_MONITOR = 'test.sys-monitor';

/** Creates (idempotently) a test-only MQTT identity with one role of `acls`; returns its login. */
async function ensureTestIdentity(username: string, rolename: string, acls: MqttAclRule[]): Promise<{ username?: string; password?: string }> {
  if (!SECURITY_ON) return {};
  const creds = ensurePasswords({ kafka: [], mqtt: [username] });
  const admin = await DynsecAdmin.connect({ url: MQTT_URL, username: ADMIN, password: password('mqtt', ADMIN) });
  try {
    await admin.ensureRole({ rolename, acls });
    await admin.ensureClient({ username, roles: [rolename] }, creds.mqtt[username]!, true);
  } finally {
    await admin.close();
  }
  return mqttAuth(username);
}

/**
 * Creates (idempotently) {@link SYS_MONITOR} with a role allowing `$SYS/#` only, for tests that
 * read the broker's own counters; returns its mqtt.js login (empty with security off).
 */
export function provisionSysMonitor(): Promise<{ username?: string; password?: string }> {
  return ensureTestIdentity(SYS_MONITOR, 'test.sys', [
    { acltype: 'subscribePattern', topic: '$SYS/#', allow: true },
    { acltype: 'publishClientReceive', topic: '$SYS/#', allow: true },
  ]);
}

/** A test-only MQTT identity standing in for ChirpStack, The Things Stack and Zigbee2MQTT: it publishes their uplink topics. */
export const FOREIGN_GATEWAYS = 'test.foreign-gateways';

export function provisionForeignGateways(): Promise<{ username?: string; password?: string }> {
  return ensureTestIdentity(
    FOREIGN_GATEWAYS,
    'test.foreign-gateways',
    Object.values(FOREIGN_UPLINK_FILTERS).map((topic) => ({ acltype: 'publishClientSend' as const, topic, allow: true })),
  );
}
