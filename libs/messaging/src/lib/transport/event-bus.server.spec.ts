import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { InProcessEventBus } from '../in-process-event-bus.adapter';
import type { IncomingRecord } from '../event-bus.port';
import { EventBusContext } from './event-bus.context';
import { EventBusServer } from './event-bus.server';

const RAW = Symbol('test.raw');
const OTHER = Symbol('test.other');

interface Call {
  values: string[];
  topic: string;
  partition: number;
  offsets: { first: string; last: string };
  floor: string | undefined;
}

/** What the handlers saw, and knobs to make them wait or fail. */
class Probe {
  readonly calls: Call[] = [];
  readonly alerts: string[] = [];
  other = 0;
  failNext = 0;
  gate: Promise<void> = Promise.resolve();
}

const probe = new Probe();

@Controller()
class RawController {
  @EventPattern('aiot.{floor}.telemetry.raw', RAW)
  async raw(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    await probe.gate;
    if (probe.failNext > 0) {
      probe.failNext--;
      throw new Error('handler failed');
    }
    probe.calls.push({ values: batch.map((r) => r.value.toString()), topic: ctx.getTopic(), partition: ctx.getPartition(), offsets: ctx.getOffsets(), floor: ctx.getFloor() });
  }

  /** An Observable result: the transport waits for it to complete before the bus commits. */
  @EventPattern('aiot.{floor}.alerts', RAW)
  alerts(@Payload() batch: IncomingRecord[]): Observable<void> {
    return new Observable<void>((sub) => {
      const t = setTimeout(() => {
        probe.alerts.push(...batch.map((r) => r.value.toString()));
        sub.complete();
      }, 20);
      return () => clearTimeout(t);
    });
  }

  @EventPattern('aiot.{floor}.telemetry.raw', OTHER)
  otherTransport(): void {
    probe.other++;
  }
}

@Module({ controllers: [RawController] })
class TestModule {}

const until = async (cond: () => boolean, timeoutMs = 5000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('EventBusServer (@EventPattern handlers over the EventBus port)', () => {
  let bus: InProcessEventBus;
  let app: INestMicroservice;

  beforeEach(async () => {
    probe.calls.length = 0;
    probe.alerts.length = 0;
    probe.other = 0;
    probe.failNext = 0;
    probe.gate = Promise.resolve();
    bus = new InProcessEventBus({ maxBatch: 100 });
    const server = new EventBusServer({ bus, groupId: 'test', transportId: RAW, floors: ['floor-1'] });
    app = await NestFactory.createMicroservice(TestModule, { strategy: server, logger: false });
    await app.listen();
  });

  afterEach(async () => {
    await app.close();
    await bus.close();
  });

  it('hands each batch with its context (topic, partition, offsets, floor) to the pattern\'s handler, on its transport only', async () => {
    await bus.publish([1, 2, 3].map((i) => ({ topic: 'aiot.floor-1.telemetry.raw', key: 'd', value: `r${i}` })));
    await until(() => probe.calls.length > 0 && probe.calls.flatMap((c) => c.values).length === 3);
    expect(probe.calls.flatMap((c) => c.values)).toEqual(['r1', 'r2', 'r3']);
    for (const call of probe.calls) {
      expect(call).toMatchObject({ topic: 'aiot.floor-1.telemetry.raw', partition: 0, floor: 'floor-1' });
      // offsets span exactly the records handed over (the in-process bus numbers them from 0)
      expect(call.offsets).toEqual({ first: String(Number(call.values[0]!.slice(1)) - 1), last: String(Number(call.values.at(-1)!.slice(1)) - 1) });
    }
    expect(probe.other).toBe(0);
  });

  it('splits a batch of several topics into runs, one topic each, in order', async () => {
    await bus.publish([
      { topic: 'aiot.floor-1.telemetry.raw', value: 'a' },
      { topic: 'aiot.floor-1.alerts', value: 'x' },
      { topic: 'aiot.floor-1.telemetry.raw', value: 'b' },
    ]);
    await until(() => probe.calls.flatMap((c) => c.values).length === 2 && probe.alerts.length === 1);
    expect(probe.calls.map((c) => c.values)).toEqual([['a'], ['b']]);
    expect(probe.alerts).toEqual(['x']);
  });

  it('commits only after the handler resolved', async () => {
    let open!: () => void;
    probe.gate = new Promise<void>((r) => (open = r));
    await bus.publish([{ topic: 'aiot.floor-1.telemetry.raw', value: 'held' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(bus.backlog).toBe(1);
    open();
    await until(() => bus.backlog === 0);
    expect(probe.calls.map((c) => c.values)).toEqual([['held']]);
  });

  it('waits for an Observable result before committing', async () => {
    await bus.publish([{ topic: 'aiot.floor-1.alerts', value: 'slow' }]);
    await until(() => bus.backlog === 0);
    expect(probe.alerts).toEqual(['slow']);
  });

  it('redelivers a batch whose handler threw', async () => {
    probe.failNext = 1;
    await bus.publish([{ topic: 'aiot.floor-1.telemetry.raw', value: 'again' }]);
    await until(() => probe.calls.length === 1, 10_000);
    expect(probe.failNext).toBe(0);
    expect(probe.calls[0]!.values).toEqual(['again']);
  });

  it('close() drains the batch in progress', async () => {
    let open!: () => void;
    probe.gate = new Promise<void>((r) => (open = r));
    await bus.publish([{ topic: 'aiot.floor-1.telemetry.raw', value: 'in-flight' }]);
    await until(() => bus.backlog === 1);
    await new Promise((r) => setTimeout(r, 20));
    const closing = app.close();
    setTimeout(open, 50);
    await closing;
    expect(probe.calls.map((c) => c.values)).toEqual([['in-flight']]);
    expect(bus.backlog).toBe(0);
  });

  it('addFloor() reads one more floor in the same group, before and after listening', async () => {
    const late = new InProcessEventBus({ maxBatch: 100 });
    const server = new EventBusServer({ bus: late, groupId: 'floors', transportId: RAW });
    await server.addFloor('floor-2'); // before listen: remembered
    const app2 = await NestFactory.createMicroservice(TestModule, { strategy: server, logger: false });
    await app2.listen();
    await server.addFloor('floor-3'); // after listen: subscribed now
    await late.publish([
      { topic: 'aiot.floor-2.telemetry.raw', value: 'two' },
      { topic: 'aiot.floor-3.telemetry.raw', value: 'three' },
      { topic: 'aiot.floor-4.telemetry.raw', value: 'four' }, // not served: no group reads it
    ]);
    await until(() => probe.calls.length === 2);
    expect(probe.calls.map((c) => [c.floor, c.values]).sort()).toEqual([
      ['floor-2', ['two']],
      ['floor-3', ['three']],
    ]);
    expect(server.subscribed).toBe(false); // no floor in the options: only the floors added
    await app2.close();
    await late.close();
  });
});
