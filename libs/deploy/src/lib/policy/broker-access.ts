// The application layer of the truth table: what each identity may do on Kafka and Mosquitto,
// derived from the rendered charts (broker configuration, the access Job's inputs and command)
// through the access plan the Job applies, and evaluated with each broker's own rules.
import {
  MQTT_DEFAULT_ACCESS,
  accessPlan,
  deviceMqttRole,
  floorTopics,
  type AccessPlan,
  type KafkaAclRule,
  type KafkaOperation,
  type MqttRole,
} from '@aiot/contracts';
import type { K8sObject } from './model';

export interface BrokerConfig {
  site: string;
  /** Floors the access Job provisions (its ConfigMap and its command must agree). */
  floors: string[];
  /** Floors deployed by aiot-floor releases in the rendered manifests (namespaces labelled aiot.io/floor). */
  deployedFloors: string[];
  kafka: { properties: Record<string, string>; superUsers: string[]; allowEveryoneIfNoAcl: boolean };
  mosquitto: { allowAnonymous: boolean; dynamicSecurity: boolean; listeners: Array<{ port: number; tls: boolean }> };
}

/** Problems that make every per-identity answer meaningless (e.g. no authorizer at all). */
export interface BrokerConfigProblem {
  broker: 'kafka' | 'mosquitto' | 'access';
  problem: string;
}

function configMapData(objects: K8sObject[], key: string): Array<{ name: string; text: string }> {
  return objects
    .filter((o) => o.kind === 'ConfigMap' && typeof (o['data'] as Record<string, unknown> | undefined)?.[key] === 'string')
    .map((o) => ({ name: o.metadata.name, text: (o['data'] as Record<string, string>)[key]! }));
}

export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function parseMosquittoConf(text: string): BrokerConfig['mosquitto'] {
  const listeners: Array<{ port: number; tls: boolean }> = [];
  let allowAnonymous = false; // Mosquitto 2's default
  let dynamicSecurity = false;
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw.trim().split(/\s+/);
    if (!key || key.startsWith('#')) continue;
    const value = rest.join(' ');
    if (key === 'listener') listeners.push({ port: Number(rest[0]), tls: false });
    else if ((key === 'certfile' || key === 'keyfile') && listeners.length > 0) listeners[listeners.length - 1]!.tls = true;
    else if (key === 'allow_anonymous') allowAnonymous = value === 'true';
    else if (key === 'plugin' && /mosquitto_dynamic_security\.so$/.test(value)) dynamicSecurity = true;
  }
  return { allowAnonymous, dynamicSecurity, listeners };
}

function jobArg(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Reads the brokers' rendered security configuration; throws when a part is missing. */
export function brokerConfig(objects: K8sObject[]): { config: BrokerConfig; problems: BrokerConfigProblem[] } {
  const problems: BrokerConfigProblem[] = [];
  const access = configMapData(objects, 'access.json');
  if (access.length !== 1) throw new Error(`expected one access ConfigMap (data access.json), found ${access.length}`);
  const inputs = JSON.parse(access[0]!.text) as { site: string; floors: string[]; partitions: number; replicationFactor: number };
  const kafkaConf = configMapData(objects, 'server.properties');
  const mqttConf = configMapData(objects, 'mosquitto.conf');
  if (kafkaConf.length !== 1 || mqttConf.length !== 1) throw new Error('expected the Kafka server.properties and mosquitto.conf ConfigMaps');

  // The Job must provision exactly the floors the ConfigMap (and so this check) says.
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/name'] === 'access');
  const command = ((job?.spec?.['template'] as { spec?: { containers?: Array<{ command?: string[] }> } } | undefined)?.spec?.containers?.[0]?.command ?? []).map(String);
  if (!job || !command.includes('apply')) problems.push({ broker: 'access', problem: 'no access Job running `edgectl access apply`' });
  else {
    const jobFloors = (jobArg(command, '--floors') ?? '').split(',').filter(Boolean).sort();
    if (jobFloors.join(',') !== [...inputs.floors].sort().join(',')) problems.push({ broker: 'access', problem: `the access Job provisions floors ${jobFloors.join(',')}, not ${inputs.floors.join(',')}` });
    if (jobArg(command, '--site') !== inputs.site) problems.push({ broker: 'access', problem: `the access Job's --site is ${jobArg(command, '--site')}, not ${inputs.site}` });
  }

  const properties = parseProperties(kafkaConf[0]!.text);
  const superUsers = (properties['super.users'] ?? '').split(';').map((s) => s.trim().replace(/^User:/, '')).filter(Boolean);
  const allowEveryoneIfNoAcl = properties['allow.everyone.if.no.acl.found'] === 'true';
  if (!/StandardAuthorizer$/.test(properties['authorizer.class.name'] ?? '')) problems.push({ broker: 'kafka', problem: 'no authorizer (authorizer.class.name): every client may do everything' });
  if (allowEveryoneIfNoAcl) problems.push({ broker: 'kafka', problem: 'allow.everyone.if.no.acl.found=true' });
  if (properties['auto.create.topics.enable'] !== 'false') problems.push({ broker: 'kafka', problem: 'auto.create.topics.enable is not false' });
  for (const entry of (properties['listener.security.protocol.map'] ?? '').split(',').filter(Boolean)) {
    const [name, protocol] = entry.split(':');
    if (!/^SASL_/.test(protocol ?? '')) problems.push({ broker: 'kafka', problem: `listener ${name} uses ${protocol}: no authentication` });
  }
  const mosquitto = parseMosquittoConf(mqttConf[0]!.text);
  if (mosquitto.allowAnonymous) problems.push({ broker: 'mosquitto', problem: 'allow_anonymous true' });
  if (!mosquitto.dynamicSecurity) problems.push({ broker: 'mosquitto', problem: 'no dynamic-security plugin: the access plan is not applied' });

  const deployedFloors = objects
    .filter((o) => o.kind === 'Namespace' && o.metadata.labels?.['aiot.io/floor'])
    .map((o) => o.metadata.labels!['aiot.io/floor']!)
    .sort();
  return {
    config: { site: inputs.site, floors: inputs.floors, deployedFloors, kafka: { properties, superUsers, allowEveryoneIfNoAcl }, mosquitto },
    problems,
  };
}

// --- Kafka's authorizer (StandardAuthorizer, ALLOW bindings only, as the plan has) ------------

/** Operations that imply Describe (Kafka's authorization docs: "implicitly grants Describe"). */
const IMPLIES_DESCRIBE: KafkaOperation[] = ['Read', 'Write', 'Delete', 'Alter'];

export function kafkaAllows(
  acls: KafkaAclRule[],
  kafka: BrokerConfig['kafka'],
  principal: string,
  resource: { type: 'topic' | 'group'; name: string },
  operation: KafkaOperation,
): boolean {
  if (kafka.superUsers.includes(principal)) return true;
  const onResource = acls.filter(
    (a) => a.resourceType === resource.type && (a.patternType === 'literal' ? a.resourceName === resource.name || a.resourceName === '*' : resource.name.startsWith(a.resourceName)),
  );
  if (onResource.length === 0) return kafka.allowEveryoneIfNoAcl;
  return onResource.some(
    (a) => (a.principal === principal || a.principal === '*') && (a.operation === operation || (operation === 'Describe' && IMPLIES_DESCRIBE.includes(a.operation))),
  );
}

// --- Mosquitto's dynamic security -------------------------------------------------------------

/** mosquitto_topic_matches_sub: does `topic` (levels taken literally) match the filter `pattern`? */
export function mqttTopicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true;
    if (i >= t.length) return false;
    if (p[i] !== '+' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/** Publish and subscribe checks of dynamic security for a client with `roles`. */
export function mqttAllows(roles: MqttRole[], action: 'publish' | 'subscribe', topic: string): boolean {
  const type = action === 'publish' ? 'publishClientSend' : 'subscribePattern';
  const acls = roles.flatMap((r) => r.acls).filter((a) => a.acltype === type && mqttTopicMatches(a.topic, topic));
  if (acls.length === 0) return action === 'publish' ? MQTT_DEFAULT_ACCESS.publishClientSend : MQTT_DEFAULT_ACCESS.subscribe;
  return acls.some((a) => a.allow);
}

// --- the table ---------------------------------------------------------------------------------

export interface BrokerPermission {
  broker: 'kafka' | 'mqtt';
  identity: string;
  action: string;
  resource: string;
  allowed: boolean;
}

export interface BrokerAccessReport {
  floors: string[];
  problems: BrokerConfigProblem[];
  /** What one floor's identities may do to another floor's data: must be empty. */
  crossFloor: BrokerPermission[];
  /** What a floor's identities may not do to their own floor's data: must be empty too (else the check proves nothing). */
  ownFloorRefused: BrokerPermission[];
  checked: number;
}

/**
 * For every ordered pair of floors (A, B): may A's Kafka principal read, write, describe or create
 * B's topics or join B's consumer groups; may A's MQTT identities (the floor's shared one and a
 * device's own) publish B's telemetry or subscribe to B's commands and alerts, or to any filter
 * spanning floors. Every floor must also keep its own access.
 */
export function checkBrokerAccess(objects: K8sObject[]): BrokerAccessReport {
  const { config, problems } = brokerConfig(objects);
  const floors = [...new Set([...config.floors, ...config.deployedFloors])].sort();
  for (const f of config.deployedFloors) {
    if (!config.floors.includes(f)) problems.push({ broker: 'access', problem: `floor ${f} is deployed but the access Job does not provision it` });
  }
  const plan: AccessPlan = accessPlan({ site: config.site, floors: config.floors, platform: true, partitions: 1, replicationFactor: 1 });
  const rolesOf = (floor: string): Array<{ identity: string; roles: MqttRole[] }> => [
    { identity: floor, roles: plan.mqtt.roles.filter((r) => plan.mqtt.clients.find((c) => c.username === floor)?.roles.includes(r.rolename)) },
    { identity: `probe-device@${floor}`, roles: [deviceMqttRole(config.site, floor, 'probe-device')] },
  ];
  // A floor the Job does not provision has no identity (empty roles read as "denied"): such
  // floors are reported as problems above instead.

  const crossFloor: BrokerPermission[] = [];
  const ownFloorRefused: BrokerPermission[] = [];
  let checked = 0;
  const record = (p: BrokerPermission, own: boolean) => {
    checked++;
    if (own && !p.allowed) ownFloorRefused.push(p);
    if (!own && p.allowed) crossFloor.push(p);
  };
  const site = config.site;
  for (const a of floors) {
    for (const b of floors) {
      const own = a === b;
      for (const topic of floorTopics(b)) {
        for (const op of ['Read', 'Write', 'Describe', 'Create'] as KafkaOperation[]) {
          // Create is refused even on a floor's own topics (the access step creates them).
          const allowed = kafkaAllows(plan.kafka.acls, config.kafka, a, { type: 'topic', name: topic }, op);
          if (op === 'Create') {
            checked++;
            if (allowed) crossFloor.push({ broker: 'kafka', identity: a, action: op, resource: `topic ${topic}`, allowed });
          } else record({ broker: 'kafka', identity: a, action: op, resource: `topic ${topic}`, allowed }, own);
        }
      }
      const group = `${b}.sensor-ingest`;
      record({ broker: 'kafka', identity: a, action: 'Read', resource: `group ${group}`, allowed: kafkaAllows(plan.kafka.acls, config.kafka, a, { type: 'group', name: group }, 'Read') }, own);
      for (const { identity, roles } of rolesOf(a)) {
        const device = identity.includes('@') ? 'probe-device' : 'd1';
        record({ broker: 'mqtt', identity, action: 'publish', resource: `aiot/${site}/${b}/r1/${device}/telemetry`, allowed: mqttAllows(roles, 'publish', `aiot/${site}/${b}/r1/${device}/telemetry`) }, own);
        for (const filter of [`aiot/${site}/${b}/r1/${device}/commands`, `aiot/${site}/${b}/alerts`]) {
          record({ broker: 'mqtt', identity, action: 'subscribe', resource: filter, allowed: mqttAllows(roles, 'subscribe', filter) }, own);
        }
      }
    }
    // Filters that span floors are never granted to a floor's identities.
    for (const { identity, roles } of rolesOf(a)) {
      for (const filter of [`aiot/${site}/+/+/+/commands`, `aiot/${site}/+/alerts`, `aiot/${site}/#`, '#', `aiot/+/${a}/+/+/commands`]) {
        checked++;
        if (mqttAllows(roles, 'subscribe', filter)) crossFloor.push({ broker: 'mqtt', identity, action: 'subscribe', resource: filter, allowed: true });
      }
      checked++;
      if (mqttAllows(roles, 'publish', `aiot/${site}/+/r1/d1/telemetry`)) crossFloor.push({ broker: 'mqtt', identity, action: 'publish', resource: `aiot/${site}/+/r1/d1/telemetry`, allowed: true });
    }
  }
  if (config.mosquitto.allowAnonymous) crossFloor.push({ broker: 'mqtt', identity: '(anonymous)', action: 'connect', resource: 'broker', allowed: true });
  return { floors, problems, crossFloor, ownFloorRefused, checked };
}

export function formatBrokerAccess(r: BrokerAccessReport): string {
  const lines = [`broker permissions (Kafka ACLs, Mosquitto dynamic security) of ${r.floors.length} floor(s): ${r.checked} checks`];
  for (const p of r.problems) lines.push(`  CONFIG ${p.broker}: ${p.problem}`);
  lines.push(
    r.crossFloor.length === 0
      ? 'floor isolation in the brokers: no identity of one floor may read or write another floor\'s data'
      : `floor isolation in the brokers BROKEN:\n${r.crossFloor.map((p) => `  ${p.broker} ${p.identity} may ${p.action} ${p.resource}`).join('\n')}`,
  );
  if (r.ownFloorRefused.length > 0) lines.push(`a floor is refused its own data:\n${r.ownFloorRefused.map((p) => `  ${p.broker} ${p.identity} may not ${p.action} ${p.resource}`).join('\n')}`);
  return lines.join('\n');
}
