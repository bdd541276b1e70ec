/**
 * The cost of the Nest event-bus transport: the same handler fed by a direct EventBus
 * subscription (how services consumed before) and through `@EventPattern` on the EventBusServer
 * (how they consume now), on the in-process bus, in one process, alternating the order per
 * repetition. Throughput in records/s per path and the ratio transport/direct per repetition.
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventBusServer, InProcessEventBus, type EventBusContext, type IncomingRecord } from '@aiot/messaging';
import { ratioSummary, summarize } from './stats';
import { suiteMain, type BenchOptions } from './suite';

const TOPIC = 'aiot.bench-1.telemetry.raw';
const TRANSPORT = Symbol('bench.transport');

/** A reading as devices send it (~150 bytes). */
const payload = (i: number) => JSON.stringify({ deviceId: `dev-${i % 250}`, seq: i, ts: 1_767_000_000_000 + i, metrics: { temperature: 21.5, humidity: 40.1, co2: 612 } });

/** The handler's work, the same on both paths: decode every record (as ingest does first). */
class Sink {
  handled = 0;
  done: (() => void) | undefined;
  target = 0;

  handle(batch: IncomingRecord[]): void {
    for (const r of batch) JSON.parse(r.value.toString('utf8'));
    this.handled += batch.length;
    if (this.handled >= this.target) this.done?.();
  }

  expect(n: number): Promise<void> {
    this.handled = 0;
    this.target = n;
    return new Promise((resolve) => (this.done = resolve));
  }
}

const sink = new Sink();

@Controller()
class BenchController {
  @EventPattern('aiot.{floor}.telemetry.raw', TRANSPORT)
  async raw(@Payload() batch: IncomingRecord[], @Ctx() _ctx: EventBusContext): Promise<void> {
    sink.handle(batch);
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

async function publishAll(bus: InProcessEventBus, records: number): Promise<void> {
  const chunk = 500;
  for (let i = 0; i < records; i += chunk) {
    await bus.publish(Array.from({ length: Math.min(chunk, records - i) }, (_, j) => ({ topic: TOPIC, key: `dev-${(i + j) % 250}`, value: payload(i + j) })));
  }
}

async function direct(records: number): Promise<number> {
  const bus = new InProcessEventBus();
  await bus.subscribe({ groupId: 'bench', topics: [TOPIC], handler: async (batch) => sink.handle(batch) });
  const done = sink.expect(records);
  const t0 = process.hrtime.bigint();
  await publishAll(bus, records);
  await done;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await bus.close();
  return records / s;
}

async function transport(records: number): Promise<number> {
  const bus = new InProcessEventBus();
  const app = await NestFactory.createMicroservice(BenchModule, {
    strategy: new EventBusServer({ bus, groupId: 'bench', transportId: TRANSPORT, floors: ['bench-1'] }),
    logger: false,
  });
  await app.listen();
  const done = sink.expect(records);
  const t0 = process.hrtime.bigint();
  await publishAll(bus, records);
  await done;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await app.close();
  await bus.close();
  return records / s;
}

export async function runTransportBench(o: BenchOptions): Promise<Record<string, unknown>> {
  const records = o.quick ? 50_000 : 300_000;
  await direct(10_000); // warm-up of both paths (JIT), not measured
  await transport(10_000);
  const d: number[] = [];
  const t: number[] = [];
  for (let rep = 0; rep < Math.max(3, o.reps); rep++) {
    if (rep % 2 === 0) {
      d.push(await direct(records));
      t.push(await transport(records));
    } else {
      t.push(await transport(records));
      d.push(await direct(records));
    }
  }
  return {
    records,
    recordBytes: Buffer.byteLength(payload(0)),
    paths: { direct: { perSec: summarize(d) }, transport: { perSec: summarize(t) } },
    ratios: { transportVsDirect: ratioSummary(t, d) },
  };
}

if (require.main === module) suiteMain('transport', runTransportBench);
