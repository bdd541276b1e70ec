import { DNS_LABEL, SEGMENT } from './floor.schema';
import { FOREIGN_UPLINK_FILTERS } from './foreign-topics';
import { UNROUTED_DLQ_TOPIC, floorTopics, kafkaTopic, type FloorStream } from './topics';

/**
 * Who may do what on the brokers: the one definition of the stack's identities and their
 * permissions, applied by the access step (`edgectl access apply`, the chart's access Job, the
 * test setup) and read by the offline truth table. A floor's identity reaches only its own floor.
 *
 * Identity names cannot collide: a floor identity is the floor id (a DNS label), platform
 * identities contain a `.` (`aiot.bridge`), per-device MQTT identities contain an `@`
 * (`<deviceId>@<floor>`); neither character can appear in a DNS label.
 */
export const PLATFORM_IDENTITIES = {
  /** Super user on both brokers; only the access step uses it. */
  admin: 'aiot.admin',
  bridge: 'aiot.bridge',
  inference: 'aiot.inference',
  dashboard: 'aiot.dashboard',
  history: 'aiot.history',
} as const;
export type PlatformService = Exclude<keyof typeof PLATFORM_IDENTITIES, 'admin'>;
export const PLATFORM_SERVICES: readonly PlatformService[] = ['bridge', 'inference', 'dashboard', 'history'];

/** Kafka consumer groups of platform services start with their identity (prefixed group ACL). */
export const PLATFORM_GROUPS = {
  bridgeDownlink: `${PLATFORM_IDENTITIES.bridge}.downlink`,
  inference: PLATFORM_IDENTITIES.inference,
  dashboard: PLATFORM_IDENTITIES.dashboard,
  history: PLATFORM_IDENTITIES.history,
} as const;

/** Consumer groups of a floor's services start with `<floor>.` (the floor's prefixed group ACL). */
export function floorGroupId(floor: string, service: string): string {
  return `${assertFloor(floor)}.${service}`;
}

/** The MQTT identity of one device with its own credentials. */
export function deviceIdentity(floor: string, deviceId: string): string {
  if (!SEGMENT.test(deviceId) || deviceId.includes('@')) throw new Error(`invalid device id "${deviceId}"`);
  return `${deviceId}@${assertFloor(floor)}`;
}

// --- Kafka ---------------------------------------------------------------------------------

/** Kafka ACL operations used here (Read/Write imply Describe, Kafka's authorizer docs). */
export type KafkaOperation = 'Read' | 'Write' | 'Describe' | 'Create' | 'Delete' | 'Alter';
export type KafkaResourceType = 'topic' | 'group';
export type KafkaPatternType = 'literal' | 'prefixed';

/** One ALLOW binding for `User:<principal>` from any host. */
export interface KafkaAclRule {
  principal: string;
  resourceType: KafkaResourceType;
  patternType: KafkaPatternType;
  resourceName: string;
  operation: KafkaOperation;
}

export interface KafkaTopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
}

// --- MQTT (Mosquitto dynamic security) ----------------------------------------------------

/** Mosquitto dynamic-security ACL types (the plugin's README, "ACL types"). */
export type MqttAclType = 'publishClientSend' | 'publishClientReceive' | 'subscribePattern' | 'unsubscribePattern';
export interface MqttAclRule {
  acltype: MqttAclType;
  topic: string;
  allow: boolean;
}
export interface MqttRole {
  rolename: string;
  acls: MqttAclRule[];
}
export interface MqttClientSpec {
  username: string;
  roles: string[];
}
/** What nobody may do unless a role allows it. */
export const MQTT_DEFAULT_ACCESS: Record<'publishClientSend' | 'publishClientReceive' | 'subscribe' | 'unsubscribe', boolean> = {
  publishClientSend: false,
  publishClientReceive: false,
  subscribe: false,
  unsubscribe: true,
};

export interface AccessPlanInput {
  /** Site id: the second level of every MQTT topic (`aiot/<site>/...`). */
  site: string;
  /** Floors to provision (topics, identities, ACLs). */
  floors: string[];
  /** Also the platform's own part (bridge, inference, dashboard, history, the unrouted DLQ). */
  platform: boolean;
  partitions: number;
  replicationFactor: number;
}

export interface AccessPlan {
  kafka: {
    /** Identities that get SCRAM credentials (the admin exists from the broker's first start). */
    users: string[];
    topics: KafkaTopicSpec[];
    acls: KafkaAclRule[];
  };
  mqtt: {
    roles: MqttRole[];
    clients: MqttClientSpec[];
  };
}

function assertFloor(floor: string): string {
  if (!DNS_LABEL.test(floor)) throw new Error(`invalid floor id "${floor}": must be a DNS label`);
  return floor;
}

const acl = (principal: string, resourceType: KafkaResourceType, patternType: KafkaPatternType, resourceName: string, operations: KafkaOperation[]): KafkaAclRule[] =>
  operations.map((operation) => ({ principal, resourceType, patternType, resourceName, operation }));

const topicAcls = (principal: string, floor: string, streams: FloorStream[], operation: KafkaOperation): KafkaAclRule[] =>
  streams.flatMap((s) => acl(principal, 'topic', 'literal', kafkaTopic(floor, s), [operation]));

/** Streams each platform service reads and writes on every floor it serves. */
export const PLATFORM_FLOOR_ACCESS: Record<PlatformService, { read: FloorStream[]; write: FloorStream[] }> = {
  bridge: { read: ['alerts', 'commands'], write: ['telemetry.raw', 'telemetry.dlq'] },
  inference: { read: ['features'], write: ['predictions', 'telemetry.dlq'] },
  dashboard: { read: ['telemetry.clean', 'predictions', 'alerts', 'commands'], write: [] },
  /** telemetry-history stores every floor's clean readings, predictions and alerts. */
  history: { read: ['telemetry.clean', 'predictions', 'alerts'], write: [] },
};

/** Kafka ACLs of one floor: its own identity on its own prefix, and the platform services' share. */
export function floorKafkaAcls(floor: string): KafkaAclRule[] {
  assertFloor(floor);
  const rules = [
    // Prefixed resource patterns end in "." so floor-1 never matches floor-10's topics or groups.
    ...acl(floor, 'topic', 'prefixed', `aiot.${floor}.`, ['Read', 'Write']),
    ...acl(floor, 'group', 'prefixed', `${floor}.`, ['Read']),
  ];
  for (const service of PLATFORM_SERVICES) {
    const principal = PLATFORM_IDENTITIES[service];
    const { read, write } = PLATFORM_FLOOR_ACCESS[service];
    rules.push(...topicAcls(principal, floor, read, 'Read'), ...topicAcls(principal, floor, write, 'Write'));
  }
  return rules;
}

/** Kafka ACLs of the platform that do not belong to a floor. */
export function platformKafkaAcls(): KafkaAclRule[] {
  return [
    ...acl(PLATFORM_IDENTITIES.bridge, 'topic', 'literal', UNROUTED_DLQ_TOPIC, ['Write']),
    ...acl(PLATFORM_IDENTITIES.inference, 'topic', 'literal', UNROUTED_DLQ_TOPIC, ['Write']),
    ...PLATFORM_SERVICES.flatMap((s) => acl(PLATFORM_IDENTITIES[s], 'group', 'prefixed', PLATFORM_IDENTITIES[s], ['Read'])),
  ];
}

/** MQTT roles of one floor's shared device identity (the floor id is its username). */
export function floorMqttRole(site: string, floor: string): MqttRole {
  const base = `aiot/${site}/${assertFloor(floor)}`;
  return {
    rolename: `floor.${floor}`,
    acls: [
      { acltype: 'publishClientSend', topic: `${base}/+/+/telemetry`, allow: true },
      ...subscribeAcls(`${base}/+/+/commands`),
      ...subscribeAcls(`${base}/alerts`),
    ],
  };
}

/** The role of one device with its own credentials: its own telemetry and commands only. */
export function deviceMqttRole(site: string, floor: string, deviceId: string): MqttRole {
  const base = `aiot/${site}/${floor}`;
  return {
    rolename: `device.${deviceIdentity(floor, deviceId)}`,
    acls: [
      { acltype: 'publishClientSend', topic: `${base}/+/${deviceId}/telemetry`, allow: true },
      ...subscribeAcls(`${base}/+/${deviceId}/commands`),
      ...subscribeAcls(`${base}/alerts`),
    ],
  };
}

/**
 * The bridge reads every floor's telemetry of the site and writes alerts and commands. Mosquitto
 * checks a shared subscription (MQTT 5 §4.8.2) against its full `$share/<group>/<filter>` form,
 * so replicas that split the load need that pattern too (any group name).
 */
export function bridgeMqttRole(site: string): MqttRole {
  return {
    rolename: 'platform.bridge',
    acls: [
      ...subscribeAcls(`aiot/${site}/+/+/+/telemetry`),
      { acltype: 'subscribePattern', topic: `$share/+/aiot/${site}/+/+/+/telemetry`, allow: true },
      // Foreign topic trees (ChirpStack, The Things Stack, Zigbee2MQTT) the bridge can translate;
      // read only, and only what BRIDGE_FOREIGN_FORMATS enables is subscribed.
      ...Object.values(FOREIGN_UPLINK_FILTERS).flatMap(subscribeAcls),
      // The broker's dropped count (queue bounds), so drops become a metric and an alert.
      ...subscribeAcls('$SYS/broker/publish/messages/dropped'),
      { acltype: 'publishClientSend', topic: `aiot/${site}/+/alerts`, allow: true },
      { acltype: 'publishClientSend', topic: `aiot/${site}/+/+/+/commands`, allow: true },
    ],
  };
}

function subscribeAcls(topic: string): MqttAclRule[] {
  return [
    { acltype: 'subscribePattern', topic, allow: true },
    { acltype: 'publishClientReceive', topic, allow: true },
  ];
}

/** Everything the access step creates for `input`: idempotent to apply, never removes. */
export function accessPlan(input: AccessPlanInput): AccessPlan {
  if (!SEGMENT.test(input.site) || /[+#/]/.test(input.site)) throw new Error(`invalid site id "${input.site}"`);
  const floors = [...new Set(input.floors.map(assertFloor))].sort();
  const topicSpec = (name: string): KafkaTopicSpec => ({ name, partitions: input.partitions, replicationFactor: input.replicationFactor });
  const plan: AccessPlan = { kafka: { users: [], topics: [], acls: [] }, mqtt: { roles: [], clients: [] } };
  if (input.platform) {
    plan.kafka.users.push(...PLATFORM_SERVICES.map((s) => PLATFORM_IDENTITIES[s]));
    plan.kafka.topics.push(topicSpec(UNROUTED_DLQ_TOPIC));
    plan.kafka.acls.push(...platformKafkaAcls());
    const bridge = bridgeMqttRole(input.site);
    plan.mqtt.roles.push(bridge);
    plan.mqtt.clients.push({ username: PLATFORM_IDENTITIES.bridge, roles: [bridge.rolename] });
  }
  for (const floor of floors) {
    plan.kafka.users.push(floor);
    plan.kafka.topics.push(...floorTopics(floor).map(topicSpec));
    plan.kafka.acls.push(...floorKafkaAcls(floor));
    const role = floorMqttRole(input.site, floor);
    plan.mqtt.roles.push(role);
    plan.mqtt.clients.push({ username: floor, roles: [role.rolename] });
  }
  return plan;
}
