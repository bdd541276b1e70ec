import { InProcessEventBus, type DeviceConsumeOptions, type DeviceLink, type DevicePublish, type IncomingRecord } from '@aiot/messaging';
import { BridgeService } from './bridge.service';

class FakeLink implements DeviceLink {
  options: DeviceConsumeOptions | undefined;
  published: DevicePublish[] = [];
  closed = false;
  async consume(o: DeviceConsumeOptions) {
    this.options = o;
  }
  async publish(m: DevicePublish[]) {
    this.published.push(...m);
  }
  isConnected() {
    return true;
  }
  async close() {
    this.closed = true;
  }
}
const until = async (cond: () => boolean) => {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('BridgeService', () => {
  it('creates a floor topic family on first sight and hands the batch to the bus before acknowledging', async () => {
    const created: string[] = [];
    const bus = new InProcessEventBus({ onTopicsCreated: async (t) => void created.push(...t) });
    const raw: IncomingRecord[] = [];
    await bus.subscribe({ groupId: 'x', topics: ['aiot.floor-42.telemetry.raw'], handler: async (b) => void raw.push(...b) });
    const link = new FakeLink();
    const bridge = new BridgeService(bus, link, { floors: 'auto' });
    await bridge.start();
    expect(link.options!.filters).toEqual(['aiot/+/+/+/+/telemetry']);
    await link.options!.handler([{ topic: 'aiot/hq/floor-42/r1/d1/telemetry', payload: Buffer.from('{}'), receivedAt: 1, duplicate: false }]);
    expect(created).toContain('aiot.floor-42.telemetry.raw');
    await until(() => raw.length === 1);
    expect(bridge.stats.uplink).toEqual({ 'floor-42': 1 });
    await bridge.stop();
    expect(link.closed).toBe(true);
    await bus.close();
  });

  it('propagates a failed Kafka write so the device link does not acknowledge', async () => {
    const bus = new InProcessEventBus();
    bus.publish = async () => {
      throw new Error('kafka down');
    };
    const link = new FakeLink();
    const bridge = new BridgeService(bus, link, { floors: ['floor-1'], downlink: false });
    await bridge.start();
    await expect(
      link.options!.handler([{ topic: 'aiot/hq/floor-1/r1/d1/telemetry', payload: Buffer.from('{}'), receivedAt: 1, duplicate: false }]),
    ).rejects.toThrow('kafka down');
    await bus.close();
  });

  it('carries valid alerts to the floor alerts topic and dead-letters invalid ones', async () => {
    const bus = new InProcessEventBus();
    const dlq: IncomingRecord[] = [];
    await bus.subscribe({ groupId: 'x', topics: ['aiot.floor-1.telemetry.dlq'], handler: async (b) => void dlq.push(...b) });
    const link = new FakeLink();
    const bridge = new BridgeService(bus, link, { floors: ['floor-1'] });
    await bridge.start();
    const alert = { id: 'a1', site: 'hq', floor: 'floor-1', room: 'r1', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'CO2 high', ts: 1 };
    await bus.publish([
      { topic: 'aiot.floor-1.alerts', key: 'r1', value: JSON.stringify(alert) },
      { topic: 'aiot.floor-1.alerts', key: 'r1', value: '{"bad":true}' },
    ]);
    await until(() => link.published.length === 1 && dlq.length === 1);
    expect(link.published[0]).toMatchObject({ topic: 'aiot/hq/floor-1/alerts', qos: 1 });
    await bridge.stop();
    await bus.close();
  });
});
