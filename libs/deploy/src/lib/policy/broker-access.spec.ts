import { accessPlan, floorKafkaAcls, floorMqttRole, deviceMqttRole, bridgeMqttRole } from '@aiot/contracts';
import { kafkaAllows, mqttAllows, mqttTopicMatches, parseProperties } from './broker-access';

const secured = { properties: {}, superUsers: ['aiot.admin', 'aiot.controller'], allowEveryoneIfNoAcl: false };

describe('Kafka authorizer model', () => {
  const acls = [...floorKafkaAcls('floor-1'), ...floorKafkaAcls('floor-10')];

  it('a prefixed ACL on "aiot.floor-1." does not reach floor-10 (the trailing dot)', () => {
    expect(kafkaAllows(acls, secured, 'floor-1', { type: 'topic', name: 'aiot.floor-1.telemetry.raw' }, 'Read')).toBe(true);
    expect(kafkaAllows(acls, secured, 'floor-1', { type: 'topic', name: 'aiot.floor-10.telemetry.raw' }, 'Read')).toBe(false);
    expect(kafkaAllows(acls, secured, 'floor-1', { type: 'group', name: 'floor-10.sensor-ingest' }, 'Read')).toBe(false);
    expect(kafkaAllows(acls, secured, 'floor-1', { type: 'group', name: 'floor-1.sensor-ingest' }, 'Read')).toBe(true);
  });

  it('Read and Write imply Describe; nothing implies Create', () => {
    expect(kafkaAllows(acls, secured, 'floor-1', { type: 'topic', name: 'aiot.floor-1.alerts' }, 'Describe')).toBe(true);
    expect(kafkaAllows(acls, secured, 'floor-1', { type: 'topic', name: 'aiot.floor-1.alerts' }, 'Create')).toBe(false);
  });

  it('super users pass; with allow.everyone.if.no.acl.found a resource without ACLs is open to all', () => {
    expect(kafkaAllows(acls, secured, 'aiot.admin', { type: 'topic', name: 'aiot.floor-10.alerts' }, 'Write')).toBe(true);
    expect(kafkaAllows(acls, secured, 'floor-1', { type: 'topic', name: 'aiot.floor-7.alerts' }, 'Read')).toBe(false);
    expect(kafkaAllows(acls, { ...secured, allowEveryoneIfNoAcl: true }, 'floor-1', { type: 'topic', name: 'aiot.floor-7.alerts' }, 'Read')).toBe(true);
  });

  it('the platform services get their share of each floor only', () => {
    const plan = accessPlan({ site: 'hq', floors: ['floor-1'], platform: true, partitions: 1, replicationFactor: 1 });
    const allow = (p: string, t: string, op: 'Read' | 'Write') => kafkaAllows(plan.kafka.acls, secured, p, { type: 'topic', name: t }, op);
    expect(allow('aiot.bridge', 'aiot.floor-1.telemetry.raw', 'Write')).toBe(true);
    expect(allow('aiot.bridge', 'aiot.floor-1.telemetry.clean', 'Read')).toBe(false);
    expect(allow('aiot.dashboard', 'aiot.floor-1.alerts', 'Read')).toBe(true);
    expect(allow('aiot.dashboard', 'aiot.floor-1.alerts', 'Write')).toBe(false);
    expect(allow('aiot.inference', 'aiot.floor-1.predictions', 'Write')).toBe(true);
    expect(allow('aiot.inference', 'aiot.floor-1.telemetry.raw', 'Read')).toBe(false);
    for (const stream of ['telemetry.clean', 'predictions', 'alerts']) {
      expect(allow('aiot.history', `aiot.floor-1.${stream}`, 'Read')).toBe(true);
      expect(allow('aiot.history', `aiot.floor-1.${stream}`, 'Write')).toBe(false);
    }
    expect(allow('aiot.history', 'aiot.floor-1.telemetry.raw', 'Read')).toBe(false);
    expect(allow('aiot.history', 'aiot.floor-1.commands', 'Read')).toBe(false);
    expect(kafkaAllows(plan.kafka.acls, secured, 'aiot.history', { type: 'group', name: 'aiot.history' }, 'Read')).toBe(true);
    expect(kafkaAllows(plan.kafka.acls, secured, 'aiot.history', { type: 'group', name: 'aiot.dashboard.x' }, 'Read')).toBe(false);
  });
});

describe('Mosquitto dynamic-security model', () => {
  it('matches filters like mosquitto_topic_matches_sub, taking wildcards in the checked topic literally', () => {
    expect(mqttTopicMatches('aiot/hq/floor-1/+/+/telemetry', 'aiot/hq/floor-1/r1/d1/telemetry')).toBe(true);
    expect(mqttTopicMatches('aiot/hq/floor-1/+/+/telemetry', 'aiot/hq/floor-10/r1/d1/telemetry')).toBe(false);
    expect(mqttTopicMatches('aiot/hq/floor-1/+/+/commands', 'aiot/hq/+/+/+/commands')).toBe(false);
    expect(mqttTopicMatches('aiot/hq/+/+/+/telemetry', 'aiot/hq/floor-1/+/+/telemetry')).toBe(true);
    expect(mqttTopicMatches('aiot/#', 'aiot/hq/x')).toBe(true);
    expect(mqttTopicMatches('aiot/hq/+/alerts', 'aiot/hq/floor-1/r1/alerts')).toBe(false);
  });

  it('a floor publishes its telemetry only, a device only its own, and neither subscribes across floors', () => {
    const floor = [floorMqttRole('hq', 'floor-1')];
    const device = [deviceMqttRole('hq', 'floor-1', 'd7')];
    expect(mqttAllows(floor, 'publish', 'aiot/hq/floor-1/r1/d1/telemetry')).toBe(true);
    expect(mqttAllows(floor, 'publish', 'aiot/hq/floor-2/r1/d1/telemetry')).toBe(false);
    expect(mqttAllows(device, 'publish', 'aiot/hq/floor-1/r1/d7/telemetry')).toBe(true);
    expect(mqttAllows(device, 'publish', 'aiot/hq/floor-1/r1/d8/telemetry')).toBe(false);
    expect(mqttAllows(floor, 'subscribe', 'aiot/hq/floor-1/+/+/commands')).toBe(true);
    expect(mqttAllows(floor, 'subscribe', 'aiot/hq/+/+/+/commands')).toBe(false);
    expect(mqttAllows(floor, 'subscribe', '#')).toBe(false);
    expect(mqttAllows([bridgeMqttRole('hq')], 'subscribe', '$share/g/aiot/hq/+/+/+/telemetry')).toBe(true);
  });
});

it('parses server.properties', () => {
  expect(parseProperties('# c\na=b\n  c = d=e \n\nbad')).toEqual({ a: 'b', c: 'd=e' });
});
