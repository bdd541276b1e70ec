import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Writable } from 'node:stream';
import pino from 'pino';
import { EventBusServer, InProcessEventBus, type IncomingRecord } from '@aiot/messaging';
import { V2ErrorFilter } from './v2-error.filter';

const T = Symbol('test.v2-filter');
const seen: string[] = [];
let failures = 0;

@Controller()
class FailingOnceController {
  @EventPattern('aiot.{floor}.features', T)
  async features(@Payload() batch: IncomingRecord[]): Promise<void> {
    if (failures === 0) {
      failures++;
      throw new Error('engine stopping');
    }
    seen.push(...batch.map((r) => r.value.toString()));
  }
}

@Module({ controllers: [FailingOnceController], providers: [{ provide: APP_FILTER, useClass: V2ErrorFilter }] })
class TestModule {}

describe('V2ErrorFilter on the event-bus transport', () => {
  it('hands an @EventPattern handler\'s own error back to the transport, so the batch is redelivered', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const bus = new InProcessEventBus({ logger: pino({ level: 'warn' }, sink) });
    const app = await NestFactory.createMicroservice(TestModule, { strategy: new EventBusServer({ bus, groupId: 'g', transportId: T, floors: ['floor-1'] }), logger: false });
    await app.listen();
    await bus.publish([{ topic: 'aiot.floor-1.features', value: 'fv' }]);
    const end = Date.now() + 10_000;
    while (seen.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(failures).toBe(1);
    expect(seen).toEqual(['fv']);
    expect(bus.backlog).toBe(0);
    // The bus saw the handler's error itself, not what an HTTP error handler made of it.
    const retries = lines.map((l) => JSON.parse(l) as { msg?: string; err?: string }).filter((l) => l.msg === 'handler failed; redelivering batch');
    expect(retries.map((r) => r.err)).toEqual(['engine stopping']);
    await app.close();
    await bus.close();
  });
});
