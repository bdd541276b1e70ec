import { lastValueFrom } from 'rxjs';
import { InProcessEventBus } from '../in-process-event-bus.adapter';
import type { IncomingRecord } from '../event-bus.port';
import { EventBusClient } from './event-bus.client';

describe('EventBusClient (publishing through the ClientProxy API)', () => {
  it('emit(topic, records) publishes them to that topic and completes once the bus took them', async () => {
    const bus = new InProcessEventBus();
    const got: IncomingRecord[] = [];
    await bus.subscribe({ groupId: 'g', topics: ['aiot.floor-1.commands'], handler: async (b) => void got.push(...b) });
    const client = new EventBusClient(bus);
    await lastValueFrom(client.emit('aiot.floor-1.commands', [{ key: 'r1', value: 'a' }, { key: 'r1', value: 'b' }]), { defaultValue: undefined });
    await lastValueFrom(client.emit('aiot.floor-1.commands', { key: 'r2', value: 'c', headers: { h: '1' } }), { defaultValue: undefined });
    const end = Date.now() + 2000;
    while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(got.map((r) => [r.topic, r.key, r.value.toString()])).toEqual([
      ['aiot.floor-1.commands', 'r1', 'a'],
      ['aiot.floor-1.commands', 'r1', 'b'],
      ['aiot.floor-1.commands', 'r2', 'c'],
    ]);
    expect(got[2]!.headers).toEqual({ h: '1' });
    await bus.close();
  });

  it('refuses request/reply: the bus carries events only', async () => {
    const client = new EventBusClient(new InProcessEventBus());
    await expect(lastValueFrom(client.send('aiot.floor-1.commands', {}))).rejects.toThrow(/events only/);
  });
});
