import { readdirSync } from 'node:fs';
import path from 'node:path';
import { MQTT_DEFAULT_ACCESS, type AccessPlan } from '@aiot/contracts';
import { applyKafkaAccess, type KafkaAccessReport, type KafkaAdminConnection } from './kafka-access.admin';
import { DynsecAdmin, type DynsecConnection } from './mqtt-dynsec.admin';
import { readSecretFile } from './transport-security';

/** Passwords per identity and broker; an identity's Kafka and MQTT passwords differ. */
export interface AccessCredentials {
  kafka: Record<string, string>;
  mqtt: Record<string, string>;
}

/**
 * Reads `<dir>/kafka-<identity>` and `<dir>/mqtt-<identity>` files, the layout of a mounted
 * credentials Secret (and of the test brokers' `.infra/secrets`).
 */
export function readCredentialsDir(dir: string): AccessCredentials {
  const out: AccessCredentials = { kafka: {}, mqtt: {} };
  for (const name of readdirSync(dir)) {
    const m = /^(kafka|mqtt)-(.+)$/.exec(name);
    if (!m || name.startsWith('.')) continue;
    out[m[1] as 'kafka' | 'mqtt'][m[2]!] = readSecretFile(path.join(dir, name), `credential ${name}`);
  }
  return out;
}

export interface AccessReport {
  kafka?: KafkaAccessReport;
  mqtt?: { roles: Record<string, string>; clients: Record<string, string> };
}

/**
 * The access step: makes both brokers hold the plan's identities, topics and permissions. It is
 * idempotent and additive (re-running changes nothing; it removes no identity), so a chart Job,
 * `edgectl access apply` and the test setup can all run it whenever the floors change. Kafka
 * SCRAM credentials are (re)set from `credentials` every run (open sessions are not affected);
 * existing MQTT identities get a new password only with `resetMqttPasswords`.
 */
export async function applyAccess(
  plan: AccessPlan,
  targets: { kafka?: KafkaAdminConnection; mqtt?: DynsecConnection },
  credentials: AccessCredentials,
  options: { resetMqttPasswords?: boolean } = {},
): Promise<AccessReport> {
  const report: AccessReport = {};
  if (targets.kafka) report.kafka = await applyKafkaAccess(targets.kafka, plan.kafka, credentials.kafka);
  if (targets.mqtt) {
    const admin = await DynsecAdmin.connect(targets.mqtt);
    try {
      await admin.setDefaultAccess(MQTT_DEFAULT_ACCESS);
      const roles: Record<string, string> = {};
      for (const role of plan.mqtt.roles) roles[role.rolename] = await admin.ensureRole(role);
      const clients: Record<string, string> = {};
      for (const client of plan.mqtt.clients) clients[client.username] = await admin.ensureClient(client, credentials.mqtt[client.username], options.resetMqttPasswords ?? false);
      report.mqtt = { roles, clients };
    } finally {
      await admin.close();
    }
  }
  return report;
}
