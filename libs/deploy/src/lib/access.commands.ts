// edgectl access / device: the access step and run-time device credentials, against the brokers.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { accessPlan, deviceIdentity, deviceMqttRole, floorIdSchema, segmentSchema } from '@aiot/contracts';
import {
  DynsecAdmin,
  applyAccess,
  kafkaEnvSchema,
  kafkaSecurityFromEnv,
  mqttEnvSchema,
  mqttSecurityFromEnv,
  readCredentialsDir,
  type DynsecConnection,
  type KafkaAdminConnection,
} from '@aiot/messaging';
import { splitList } from '@aiot/observability';

export interface AccessCommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** Thrown for operator errors (bad input, missing configuration): message only, exit code 2. */
export class AccessUsageError extends Error {}

const list = splitList;

function parseOr<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AccessUsageError(`${what}: ${r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The admin's Kafka connection from KAFKA_* variables (the same ones every service reads). */
export function kafkaAdminFromEnv(env: AccessCommandIo['env']): KafkaAdminConnection {
  const e = parseOr(kafkaEnvSchema, env, 'Kafka connection (KAFKA_BROKERS, KAFKA_SASL_*, KAFKA_TLS_CA_FILE)');
  return { brokers: e.KAFKA_BROKERS, security: kafkaSecurityFromEnv(e), clientId: 'edgectl-access' };
}

/** The dynamic-security admin's MQTT connection from MQTT_URL, MQTT_USERNAME, MQTT_PASSWORD(_FILE), MQTT_TLS_CA_FILE. */
export function mqttAdminFromEnv(env: AccessCommandIo['env']): DynsecConnection {
  const e = parseOr(mqttEnvSchema, env, 'MQTT connection (MQTT_URL, MQTT_USERNAME, MQTT_PASSWORD_FILE, MQTT_TLS_CA_FILE)');
  const s = mqttSecurityFromEnv(e);
  if (!s.username || s.password === undefined) throw new AccessUsageError('MQTT_USERNAME and MQTT_PASSWORD_FILE (the dynamic-security admin) are required');
  return { url: e.MQTT_URL, username: s.username, password: s.password, ...(s.tls ? { tls: s.tls } : {}) };
}

/** A password for a new identity: 192 random bits, URL-safe. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Kafka's PEM keystore (ssl.keystore.type=PEM) takes the private key as PKCS#8 followed by the
 * certificate chain; Helm's genSignedCert writes PKCS#1. Returns the keystore text.
 */
export function pemKeystore(keyPem: string, certPem: string): string {
  const key = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = new X509Certificate(certPem);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new AccessUsageError('the key does not belong to the certificate');
  return `${key.trim()}\n${certPem.trim()}\n`;
}

export function registerAccessCommands(program: Command, io: AccessCommandIo): void {
  program
    .command('tls')
    .description('TLS helpers for the brokers')
    .command('pem-keystore')
    .description("write Kafka's PEM keystore (PKCS#8 key + certificate) from a key and certificate in any PEM form")
    .requiredOption('--key <file>', 'private key (PEM)')
    .requiredOption('--cert <file>', 'certificate chain (PEM)')
    .requiredOption('--out <file>', 'keystore to write (mode 0600)')
    .action((o: { key: string; cert: string; out: string }) => {
      writeFileSync(o.out, pemKeystore(readFileSync(o.key, 'utf8'), readFileSync(o.cert, 'utf8')), { mode: 0o600 });
      io.out(`wrote ${o.out}`);
    });

  const access = program.command('access').description('broker identities, topics and ACLs (the access step)');
  access
    .command('apply')
    .description(
      'create the topics, identities and ACLs of the platform and/or floors on Kafka and Mosquitto (idempotent, additive). ' +
        'Connections: KAFKA_BROKERS + KAFKA_SASL_* / KAFKA_TLS_CA_FILE as the Kafka admin, MQTT_URL + MQTT_USERNAME / MQTT_PASSWORD_FILE / MQTT_TLS_CA_FILE as the dynamic-security admin',
    )
    .requiredOption('--site <id>', 'site id (aiot/<site>/...)')
    .option('--floors <list>', 'floors to provision, comma separated', '')
    .option('--platform', 'also the platform identities (bridge, inference, dashboard) and the unrouted DLQ topic')
    .requiredOption('--credentials-dir <dir>', 'directory with kafka-<identity> and mqtt-<identity> password files (a mounted Secret)')
    .option('--partitions <n>', 'partitions of created topics', '3')
    .option('--replication-factor <n>', 'replication of created topics (-1 = the broker default)', '-1')
    .option('--reset-mqtt-passwords', 'also set the password of MQTT identities that exist (disconnects their sessions)')
    .addOption(new Option('--only <broker>', 'apply to one broker only').choices(['kafka', 'mqtt']))
    .action(async (o: { site: string; floors: string; platform?: boolean; credentialsDir: string; partitions: string; replicationFactor: string; resetMqttPasswords?: boolean; only?: 'kafka' | 'mqtt' }) => {
      const site = parseOr(segmentSchema, o.site, '--site');
      const floors = parseOr(z.array(floorIdSchema), list(o.floors), '--floors');
      if (floors.length === 0 && !o.platform) throw new AccessUsageError('nothing to do: give --floors and/or --platform');
      const partitions = parseOr(z.coerce.number().int().min(1).max(1000), o.partitions, '--partitions');
      const replicationFactor = parseOr(z.coerce.number().int().min(-1).max(7), o.replicationFactor, '--replication-factor');
      const plan = accessPlan({ site, floors, platform: o.platform ?? false, partitions, replicationFactor });
      const targets = {
        ...(o.only !== 'mqtt' ? { kafka: kafkaAdminFromEnv(io.env) } : {}),
        ...(o.only !== 'kafka' ? { mqtt: mqttAdminFromEnv(io.env) } : {}),
      };
      const started = Date.now();
      const report = await applyAccess(plan, targets, readCredentialsDir(o.credentialsDir), { resetMqttPasswords: o.resetMqttPasswords ?? false });
      if (report.kafka) {
        const k = report.kafka;
        io.out(`kafka: ${k.usersUpserted.length} SCRAM identities set (${k.usersUpserted.join(', ') || '-'}), ${k.topicsCreated.length} topics created, ${k.aclsApplied} ACL bindings applied`);
      }
      if (report.mqtt) {
        const fmt = (r: Record<string, string>) => Object.entries(r).map(([n, s]) => `${n} ${s}`).join(', ') || '-';
        io.out(`mqtt: roles ${fmt(report.mqtt.roles)}; identities ${fmt(report.mqtt.clients)}`);
      }
      io.out(`access step done for ${[o.platform ? 'platform' : '', ...floors].filter(Boolean).join(', ')} (site ${site}) in ${Date.now() - started} ms`);
    });

  const device = program
    .command('device')
    .description('per-device MQTT credentials, managed at run time through the dynamic-security plugin (MQTT_URL, MQTT_USERNAME, MQTT_PASSWORD_FILE, MQTT_TLS_CA_FILE of the admin)');
  device
    .command('add <deviceId>')
    .description('create an identity for one device: it may publish only its own telemetry and read its commands and its floor\'s alerts. The password is printed once.')
    .requiredOption('--floor <floor>', 'the device\'s floor')
    .requiredOption('--site <id>', 'site id')
    .action(async (deviceId: string, o: { floor: string; site: string }) => {
      const floor = parseOr(floorIdSchema, o.floor, '--floor');
      const site = parseOr(segmentSchema, o.site, '--site');
      let username: string;
      try {
        username = deviceIdentity(floor, deviceId);
      } catch (err) {
        throw new AccessUsageError((err as Error).message);
      }
      const admin = await DynsecAdmin.connect(mqttAdminFromEnv(io.env));
      try {
        if (await admin.getClient(username)) throw new AccessUsageError(`${username} exists already; remove it first to issue a new password`);
        const role = deviceMqttRole(site, floor, deviceId);
        await admin.ensureRole(role);
        const password = generatePassword();
        await admin.ensureClient({ username, roles: [role.rolename] }, password);
        io.out(`username: ${username}`);
        io.out(`password: ${password}`);
        io.err(`device ${deviceId} on ${floor}: publish to aiot/${site}/${floor}/<room>/${deviceId}/telemetry. The password is shown only this once.`);
      } finally {
        await admin.close();
      }
    });
  device
    .command('remove <deviceId>')
    .description('delete a device identity and its role (its open connections are closed)')
    .requiredOption('--floor <floor>', 'the device\'s floor')
    .action(async (deviceId: string, o: { floor: string }) => {
      const floor = parseOr(floorIdSchema, o.floor, '--floor');
      const username = deviceIdentity(floor, deviceId);
      const admin = await DynsecAdmin.connect(mqttAdminFromEnv(io.env));
      try {
        const removed = await admin.deleteClient(username);
        await admin.deleteRole(`device.${username}`);
        if (!removed) throw new AccessUsageError(`${username} does not exist`);
        io.out(`removed ${username}`);
      } finally {
        await admin.close();
      }
    });
  device
    .command('list')
    .description('MQTT identities of floors and devices (no passwords: the broker keeps only salted hashes)')
    .option('--floor <floor>', 'only this floor')
    .action(async (o: { floor?: string }) => {
      const floor = o.floor === undefined ? undefined : parseOr(floorIdSchema, o.floor, '--floor');
      const admin = await DynsecAdmin.connect(mqttAdminFromEnv(io.env));
      try {
        const rows = (await admin.listClients())
          .map((c) => {
            const at = c.username.lastIndexOf('@');
            if (at > 0) return { identity: c.username, floor: c.username.slice(at + 1), kind: 'device', roles: c.roles, disabled: c.disabled };
            if (floorIdSchema.safeParse(c.username).success) return { identity: c.username, floor: c.username, kind: 'floor', roles: c.roles, disabled: c.disabled };
            return undefined;
          })
          .filter((r): r is NonNullable<typeof r> => r !== undefined && (floor === undefined || r.floor === floor))
          .sort((a, b) => a.floor.localeCompare(b.floor) || a.kind.localeCompare(b.kind) || a.identity.localeCompare(b.identity));
        io.out(['IDENTITY\tFLOOR\tKIND\tROLES', ...rows.map((r) => `${r.identity}\t${r.floor}\t${r.kind}${r.disabled ? ' (disabled)' : ''}\t${r.roles.join(',')}`)].join('\n'));
      } finally {
        await admin.close();
      }
    });
}
