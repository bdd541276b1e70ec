import { join } from 'node:path';
import type { DeviceLink, DevicePublish } from '@aiot/messaging';
import type { SimulatorLinkOptions } from './simulator.cli';
import { runSimulatorCli } from './simulator.launcher';

function fakeLink(): { link: DeviceLink; published: DevicePublish[]; options: SimulatorLinkOptions[]; closed: () => boolean; create: (o: SimulatorLinkOptions) => DeviceLink } {
  const published: DevicePublish[] = [];
  const options: SimulatorLinkOptions[] = [];
  let closed = false;
  const link: DeviceLink = {
    consume: () => Promise.reject(new Error('not used')),
    publish: async (messages) => {
      published.push(...messages);
    },
    isConnected: () => true,
    close: async () => {
      closed = true;
    },
  };
  return { link, published, options, closed: () => closed, create: (o) => (options.push(o), link) };
}

const quiet = { stdout: () => undefined, stderr: () => undefined, onShutdown: () => () => undefined };

describe('runSimulatorCli', () => {
  it('publishes the bounded run through the DeviceLink with the chosen QoS, then closes it', async () => {
    const fake = fakeLink();
    let out = '';
    const code = await runSimulatorCli(['--count', '12', '--speed', '0', '--rate', '10000', '--qos', '0', '--username', 'u'], {
      ...quiet,
      createLink: fake.create,
      env: { MQTT_PASSWORD: 'secret' },
      stdout: (t) => (out += t),
    });
    expect(code).toBe(0);
    expect(fake.published).toHaveLength(12);
    expect(fake.published.every((m) => m.qos === 0 && m.topic.startsWith('aiot/hq/floor-1/'))).toBe(true);
    expect(fake.options).toEqual([{ url: 'mqtt://127.0.0.1:1883', clientId: 'aiot-sim-hq-1', protocolVersion: 5, username: 'u', password: 'secret' }]);
    expect(fake.closed()).toBe(true);
    expect(JSON.parse(out)).toMatchObject({ published: 12, stopReason: 'count', simulator: { readings: 120 } });
  });

  it('replays a data-set file into a room', async () => {
    const fake = fakeLink();
    const file = join(__dirname, '../../../../models/occupancy/data/datatest.txt');
    const code = await runSimulatorCli(['--replay', file, '--room', 'floor-2/r03', '--speed', '0', '--rate', '100000', '--count', '100'], {
      ...quiet,
      createLink: fake.create,
      env: {},
    });
    expect(code).toBe(0);
    expect(fake.published).toHaveLength(100);
    expect(fake.published[0]!.topic).toBe('aiot/hq/floor-2/r03/floor-2-r03-replay/telemetry');
    expect(JSON.parse(String(fake.published[0]!.payload))).toMatchObject({ deviceId: 'floor-2-r03-replay', seq: 0, ts: Date.UTC(2015, 1, 2, 14, 19) });
  });

  it('prints validation errors and exits 2 without connecting', async () => {
    const fake = fakeLink();
    let err = '';
    const code = await runSimulatorCli(['--floors', '0'], { ...quiet, createLink: fake.create, stderr: (t) => (err += t) });
    expect(code).toBe(2);
    expect(err).toMatch(/--floors/);
    expect(fake.options).toHaveLength(0);
  });

  it('reports a missing replay file clearly', async () => {
    const fake = fakeLink();
    let err = '';
    const code = await runSimulatorCli(['--replay', '/nonexistent/x.csv', '--room', 'floor-1/r01'], { ...quiet, createLink: fake.create, stderr: (t) => (err += t) });
    expect(code).toBe(2);
    expect(err).toMatch(/ENOENT.*\/nonexistent\/x\.csv/);
  });

  it('exits 1 when publishing fails, still closing the link', async () => {
    const fake = fakeLink();
    fake.link.publish = () => Promise.reject(new Error('not authorised'));
    let err = '';
    const code = await runSimulatorCli(['--count', '5', '--speed', '0'], { ...quiet, createLink: fake.create, stderr: (t) => (err += t) });
    expect(code).toBe(1);
    expect(err).toMatch(/publishing failed: not authorised/);
    expect(fake.closed()).toBe(true);
  });

  it('stops on the shutdown signal', async () => {
    const fake = fakeLink();
    let trigger: (() => void) | undefined;
    const done = runSimulatorCli(['--speed', '1', '--rate', '100000'], {
      ...quiet,
      createLink: fake.create,
      onShutdown: (stop) => {
        trigger = stop;
        return () => (trigger = undefined);
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    trigger!();
    expect(await done).toBe(0);
    expect(fake.published).toHaveLength(120); // the first tick; the next is a simulated minute (a real minute at speed 1) away
    expect(trigger).toBeUndefined();
  });
});
