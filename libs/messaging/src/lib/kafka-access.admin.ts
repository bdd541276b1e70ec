import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
  type AclEntry,
  type AclFilter,
  type Admin,
} from 'kafkajs';
import type { KafkaAclRule, KafkaOperation, KafkaTopicSpec } from '@aiot/contracts';
import { kafkajsSecurity, tlsConnectionOptions, type KafkaSecurityOptions } from './transport-security';

export interface KafkaAdminConnection {
  brokers: string[];
  /** The admin identity (a super user) and TLS. */
  security: KafkaSecurityOptions;
  clientId?: string;
}

/**
 * SCRAM iterations for credentials this step creates. RFC 7677 asks for at least 4096; Kafka
 * accepts 4096–16384. More iterations slow every login (each client connection) on the broker.
 */
export const SCRAM_ITERATIONS = 8192;

const OPERATIONS: Record<KafkaOperation, AclOperationTypes> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Describe: AclOperationTypes.DESCRIBE,
  Create: AclOperationTypes.CREATE,
  Delete: AclOperationTypes.DELETE,
  Alter: AclOperationTypes.ALTER,
};

/** kafkajs form of one ALLOW binding from the access plan. */
export function toKafkajsAcl(rule: KafkaAclRule): AclEntry {
  return {
    principal: `User:${rule.principal}`,
    host: '*',
    operation: OPERATIONS[rule.operation],
    permissionType: AclPermissionTypes.ALLOW,
    resourceType: rule.resourceType === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: rule.resourceName,
    resourcePatternType: rule.patternType === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
  };
}

async function withAdmin<T>(c: KafkaAdminConnection, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({
    clientId: c.clientId ?? 'aiot-access',
    brokers: c.brokers,
    ...kafkajsSecurity(c.security),
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export interface KafkaAccessReport {
  usersUpserted: string[];
  topicsCreated: string[];
  aclsApplied: number;
}

/**
 * Applies the Kafka part of an access plan, idempotently: SCRAM credentials for every user in
 * `passwords`, missing topics created with the plan's partitions and replication, every ACL
 * created (creating an existing binding changes nothing). Removes nothing.
 */
export async function applyKafkaAccess(
  c: KafkaAdminConnection,
  plan: { users: string[]; topics: KafkaTopicSpec[]; acls: KafkaAclRule[] },
  passwords: Readonly<Record<string, string>>,
): Promise<KafkaAccessReport> {
  const users = plan.users.filter((u) => passwords[u] !== undefined);
  if (users.length > 0) await upsertScramCredentials(c, users.map((name) => ({ name, password: passwords[name]! })));
  const report: KafkaAccessReport = { usersUpserted: users, topicsCreated: [], aclsApplied: 0 };
  await withAdmin(c, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = plan.topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor })),
      });
      report.topicsCreated = missing.map((t) => t.name);
    }
    if (plan.acls.length > 0) {
      await admin.createAcls({ acl: plan.acls.map(toKafkajsAcl) });
      report.aclsApplied = plan.acls.length;
      await waitForAcls(admin, plan.acls);
    }
  });
  return report;
}

/**
 * Kafka applies ACL changes asynchronously (the controller commits them, then every broker's
 * authorizer loads them from the metadata log). Return only once the broker answers with every
 * binding, so a client started right after the access step is not refused. Bounded: 30 s.
 */
async function waitForAcls(admin: Admin, acls: KafkaAclRule[], timeoutMs = 30_000): Promise<void> {
  const key = (a: { principal: string; resourceType: number; resourceName: string; resourcePatternType: number; operation: number }) =>
    `${a.principal}|${a.resourceType}|${a.resourcePatternType}|${a.resourceName}|${a.operation}`;
  const wanted = new Set(acls.map((r) => key(toKafkajsAcl(r))));
  const principals = [...new Set(acls.map((r) => `User:${r.principal}`))];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = new Set<string>();
    for (const principal of principals) {
      const r = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ALLOW,
      });
      for (const res of r.resources) for (const a of res.acls) seen.add(key({ ...a, ...res }));
    }
    const missing = [...wanted].filter((k) => !seen.has(k));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`Kafka did not show ${missing.length} ACL bindings within ${timeoutMs} ms (e.g. ${missing[0]})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deletes exactly these ACL bindings (e.g. a floor's, when it is removed). */
export async function deleteKafkaAcls(c: KafkaAdminConnection, acls: KafkaAclRule[]): Promise<number> {
  if (acls.length === 0) return 0;
  return withAdmin(c, async (admin) => {
    const filters: AclFilter[] = acls.map(toKafkajsAcl);
    const r = await admin.deleteAcls({ filters });
    return r.filterResponses.reduce((n, f) => n + f.matchingAcls.length, 0);
  });
}

/** Every ALLOW binding of one principal (`User:<name>`). */
export async function describeKafkaAcls(c: KafkaAdminConnection, principal: string): Promise<AclEntry[]> {
  return withAdmin(c, async (admin) => {
    const r = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal: `User:${principal}`,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    return r.resources.flatMap((res) => res.acls.map((a) => ({ ...a, resourceType: res.resourceType, resourceName: res.resourceName, resourcePatternType: res.resourcePatternType })));
  });
}

// --- SCRAM credentials (KIP-554 AlterUserScramCredentials) ----------------------------------
// kafkajs has no client for this API; @platformatic/kafka ships one, used for these calls only.

type PlatformaticKafka = typeof import('@platformatic/kafka');

/** Longest a SCRAM credential exchange (connect, authenticate, request) may take (ms). */
const SCRAM_REQUEST_TIMEOUT_MS = 30_000;
type PlatformaticConnection = InstanceType<PlatformaticKafka['Connection']>;

async function withScramConnection<T>(c: KafkaAdminConnection, fn: (k: PlatformaticKafka, conn: PlatformaticConnection) => Promise<T>): Promise<T> {
  // A CommonJS require of an ES module package (Node ≥ 20.19), loaded only when needed.
  const k = require('@platformatic/kafka') as PlatformaticKafka;
  const sasl = c.security.sasl;
  if (!sasl) throw new Error('the access step needs the admin identity (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE)');
  const [host, port] = splitHostPort(c.brokers[0]!);
  const conn = new k.Connection(c.clientId ?? 'aiot-access', {
    connectTimeout: 10_000,
    sasl: { mechanism: sasl.mechanism.toUpperCase() as 'SCRAM-SHA-512', username: sasl.username, password: sasl.password },
    // SNI carries host names only (RFC 6066 §3): none when connecting to an IP address.
    ...(c.security.tls ? { tls: tlsConnectionOptions(c.security.tls), tlsServerName: c.security.tls.servername ?? (isIP(host) ? false : host) } : {}),
  });
  // This client version has no per-request timeout: bound the whole exchange instead.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Kafka SCRAM credential request to ${host}:${port} timed out after ${SCRAM_REQUEST_TIMEOUT_MS} ms`)), SCRAM_REQUEST_TIMEOUT_MS);
  });
  try {
    await Promise.race([conn.connect(host, port), timeout]);
    return await Promise.race([fn(k, conn), timeout]);
  } finally {
    clearTimeout(timer);
    await conn.close().catch(() => undefined);
  }
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i), Number(hostPort.slice(i + 1))];
}

/** SCRAM-SHA-512 SaltedPassword = Hi(password, salt, i) (RFC 5802 §2.2: PBKDF2 with HMAC). */
export function scramSaltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 64, 'sha512');
}

function throwResultErrors(results: Array<{ user: string; errorCode: number; errorMessage?: string | null }>, what: string): void {
  const failed = results.filter((r) => r.errorCode !== 0);
  if (failed.length > 0) throw new Error(`${what}: ${failed.map((f) => `${f.user}: ${f.errorMessage ?? `error ${f.errorCode}`}`).join('; ')}`);
}

/** Creates or replaces SCRAM-SHA-512 credentials; the password itself never leaves this process. */
export async function upsertScramCredentials(c: KafkaAdminConnection, users: Array<{ name: string; password: string }>): Promise<void> {
  await withScramConnection(c, async (k, conn) => {
    const upsertions = users.map(({ name, password }) => {
      const salt = randomBytes(32);
      return { name, mechanism: k.ScramMechanisms.SCRAM_SHA_512, iterations: SCRAM_ITERATIONS, salt, saltedPassword: scramSaltedPassword(password, salt, SCRAM_ITERATIONS) };
    });
    const r = await k.alterUserScramCredentialsV0.api.async(conn, [], upsertions);
    throwResultErrors(r.results, 'SCRAM credentials not set');
  });
}

/** Deletes SCRAM-SHA-512 credentials (unknown users are ignored). */
export async function deleteScramCredentials(c: KafkaAdminConnection, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await withScramConnection(c, async (k, conn) => {
    const existing = new Set(await listScramUsersWith(k, conn));
    const deletions = names.filter((n) => existing.has(n)).map((name) => ({ name, mechanism: k.ScramMechanisms.SCRAM_SHA_512 }));
    if (deletions.length === 0) return;
    const r = await k.alterUserScramCredentialsV0.api.async(conn, deletions, []);
    throwResultErrors(r.results, 'SCRAM credentials not deleted');
  });
}

/** Users that have SCRAM credentials (names only: the broker never returns secrets). */
export async function listScramUsers(c: KafkaAdminConnection): Promise<string[]> {
  return withScramConnection(c, (k, conn) => listScramUsersWith(k, conn));
}

async function listScramUsersWith(k: PlatformaticKafka, conn: PlatformaticConnection): Promise<string[]> {
  const r = await k.describeUserScramCredentialsV0.api.async(conn, []);
  return r.results.filter((x) => x.errorCode === 0).map((x) => x.user).sort();
}
