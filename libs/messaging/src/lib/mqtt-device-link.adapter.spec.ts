import { EventEmitter } from 'node:events';
import type { IPublishPacket, Packet } from 'mqtt';
import { MqttDeviceLink } from './mqtt-device-link.adapter';

/**
 * The parts of an mqtt.js client the link touches: `handleMessage` (replaced by the link),
 * `_sendPacket` (wrapped by the link: what reaches it here went to the broker), the connection
 * events, and `subscribeAsync`. The integration tests cover the same paths against Mosquitto.
 */
class FakeClient extends EventEmitter {
  connected = false;
  readonly sent: Packet[] = [];
  handleMessage: (packet: IPublishPacket, callback: (err?: Error) => void) => void = () => undefined;
  _sendPacket(packet: Packet, cb?: (err?: Error) => void): void {
    this.sent.push(packet);
    cb?.();
  }
  subscribeAsync(filters: string[]): Promise<Array<{ topic: string; qos: number }>> {
    return Promise.resolve(filters.map((topic) => ({ topic, qos: 1 })));
  }
  endAsync(): Promise<void> {
    return Promise.resolve();
  }

  open(sessionPresent: boolean): void {
    this.connected = true;
    this.emit('connect', { cmd: 'connack', sessionPresent });
  }

  drop(): void {
    this.connected = false;
    this.emit('close');
  }

  /** A QoS 1 PUBLISH as mqtt.js hands it over: the link's callback makes mqtt.js send the PUBACK. */
  receive(messageId: number, payload: string, dup = false): void {
    const packet = { cmd: 'publish', topic: 'aiot/hq/f1/r1/d1/telemetry', payload: Buffer.from(payload), qos: 1, dup, retain: false, messageId } as IPublishPacket;
    this.handleMessage(packet, () => this._sendPacket({ cmd: 'puback', messageId }));
  }

  pubacks(): number[] {
    return this.sent.flatMap((p) => (p.cmd === 'puback' && p.messageId !== undefined ? [p.messageId] : []));
  }
}

let fake: FakeClient;
jest.mock('mqtt', () => ({
  __esModule: true,
  default: { connect: () => fake },
}));

async function consuming(options: { maxInFlight: number; maxBatch: number; maxWaitMs: number }) {
  fake = new FakeClient();
  const link = new MqttDeviceLink({ url: 'mqtt://broker.invalid', clientId: 'bridge-0', ...options });
  const handed: string[] = [];
  const started = link.consume({ filters: ['aiot/hq/+/+/+/telemetry'], handler: async (batch) => void handed.push(...batch.map((m) => m.payload.toString())) });
  fake.open(false);
  await started;
  return { link, handed };
}

describe('MqttDeviceLink after a lost connection', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('hands over again when the connection dropped while a partial batch waited for its flush timer', async () => {
    const { link, handed } = await consuming({ maxInFlight: 4, maxBatch: 3, maxWaitMs: 20 });
    fake.receive(1, 'a');
    fake.receive(2, 'b'); // a partial batch: its flush timer runs
    fake.drop(); // the broker keeps a and b (never acknowledged) and redelivers them
    await jest.advanceTimersByTimeAsync(50); // the flush timer finds the buffer empty
    expect(handed).toEqual([]);
    expect(link.inFlight).toBe(0);

    fake.open(true);
    fake.receive(1, 'a', true);
    fake.receive(2, 'b', true);
    for (let i = 3; i <= 10; i++) fake.receive(i, String.fromCharCode(96 + i)); // c..j: past the window of 4
    await jest.advanceTimersByTimeAsync(200);

    expect(handed).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    expect(fake.pubacks()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // on the new connection, in receive order
    expect(link.inFlight).toBe(0);
  });

  it('takes no QoS 1 message that mqtt.js hands over after the connection was lost: the broker redelivers it', async () => {
    const { link, handed } = await consuming({ maxInFlight: 4, maxBatch: 2, maxWaitMs: 20 });
    fake.receive(1, 'a');
    fake.receive(2, 'b');
    await jest.advanceTimersByTimeAsync(0);
    expect(handed).toEqual(['a', 'b']);
    fake.drop();
    // Parsed from the lost connection's last bytes and handed over only now.
    fake.receive(3, 'c');
    await jest.advanceTimersByTimeAsync(50);
    expect(handed).toEqual(['a', 'b']);
    expect(link.inFlight).toBe(0);

    // The new connection: the broker redelivers c and reuses packet id 3 for it.
    fake.open(true);
    fake.receive(3, 'c', true);
    fake.receive(4, 'd');
    await jest.advanceTimersByTimeAsync(50);
    expect(handed).toEqual(['a', 'b', 'c', 'd']);
    expect(fake.pubacks()).toEqual([1, 2, 3, 4]); // one PUBACK for packet id 3: the redelivery's, after it was handed over
    expect(link.inFlight).toBe(0);
  });

  it('keeps handing over after several drops in a row, each with a partial batch pending', async () => {
    const { link, handed } = await consuming({ maxInFlight: 10, maxBatch: 5, maxWaitMs: 20 });
    for (let round = 0; round < 3; round++) {
      fake.receive(1, 'x');
      fake.drop();
      await jest.advanceTimersByTimeAsync(50);
      fake.open(true);
    }
    fake.receive(1, 'x', true);
    fake.receive(2, 'y');
    await jest.advanceTimersByTimeAsync(50);
    expect(handed).toEqual(['x', 'y']);
    expect(fake.pubacks()).toEqual([1, 2]);
    expect(link.inFlight).toBe(0);
  });
});
