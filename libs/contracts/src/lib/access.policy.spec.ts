import { accessPlan, deviceIdentity, floorGroupId, floorKafkaAcls, PLATFORM_IDENTITIES } from './access.policy';
import { floorTopics } from './topics';

describe('access plan', () => {
  const plan = accessPlan({ site: 'hq', floors: ['floor-2', 'floor-1'], platform: true, partitions: 6, replicationFactor: 3 });

  it('creates each floor\'s topics with the given size and the unrouted DLQ, nothing else', () => {
    expect(plan.kafka.topics.map((t) => t.name).sort()).toEqual(['aiot._unrouted.dlq', ...floorTopics('floor-1'), ...floorTopics('floor-2')].sort());
    expect(new Set(plan.kafka.topics.map((t) => `${t.partitions}/${t.replicationFactor}`))).toEqual(new Set(['6/3']));
  });

  it('gives a floor prefixed Read/Write on its topics and Read on its groups, ending in "." and never Create', () => {
    const own = floorKafkaAcls('floor-1').filter((a) => a.principal === 'floor-1');
    expect(own).toEqual([
      { principal: 'floor-1', resourceType: 'topic', patternType: 'prefixed', resourceName: 'aiot.floor-1.', operation: 'Read' },
      { principal: 'floor-1', resourceType: 'topic', patternType: 'prefixed', resourceName: 'aiot.floor-1.', operation: 'Write' },
      { principal: 'floor-1', resourceType: 'group', patternType: 'prefixed', resourceName: 'floor-1.', operation: 'Read' },
    ]);
    expect(plan.kafka.acls.some((a) => a.operation === 'Create')).toBe(false);
    expect(floorGroupId('floor-1', 'sensor-ingest')).toBe('floor-1.sensor-ingest');
  });

  it('grants platform services literal topics only, never a prefix', () => {
    const platform = plan.kafka.acls.filter((a) => a.principal.startsWith('aiot.') && a.resourceType === 'topic');
    expect(platform.length).toBeGreaterThan(0);
    expect(platform.every((a) => a.patternType === 'literal')).toBe(true);
    expect(plan.kafka.users.sort()).toEqual(['aiot.bridge', 'aiot.dashboard', 'aiot.history', 'aiot.inference', 'floor-1', 'floor-2']);
    expect(plan.kafka.users).not.toContain(PLATFORM_IDENTITIES.admin);
  });

  it('has one MQTT identity per floor with its own role, plus the bridge', () => {
    expect(plan.mqtt.clients).toEqual([
      { username: 'aiot.bridge', roles: ['platform.bridge'] },
      { username: 'floor-1', roles: ['floor.floor-1'] },
      { username: 'floor-2', roles: ['floor.floor-2'] },
    ]);
    const role = plan.mqtt.roles.find((r) => r.rolename === 'floor.floor-1')!;
    expect(role.acls.every((a) => a.topic.startsWith('aiot/hq/floor-1/'))).toBe(true);
  });

  it('keeps identity names apart: floors are DNS labels, devices carry an @, platform a dot', () => {
    expect(deviceIdentity('floor-1', 'dev.7')).toBe('dev.7@floor-1');
    expect(() => deviceIdentity('floor-1', 'a@b')).toThrow(/invalid device id/);
    expect(() => deviceIdentity('floor-1', 'a/+')).toThrow(/invalid device id/);
    expect(() => accessPlan({ site: 'hq', floors: ['aiot.bridge'], platform: false, partitions: 1, replicationFactor: 1 })).toThrow(/DNS label/);
    expect(() => accessPlan({ site: 'h/#', floors: [], platform: true, partitions: 1, replicationFactor: 1 })).toThrow(/site/);
  });
});
