import { parseOccupancyCsv } from './occupancy-csv.parser';
import { VirtualClock } from './runner.clock';
import { SimulatorRunner, type MessageSink, type TickSource } from './simulator.runner';
import { SimulatorService, type SimulatorMessage } from './simulator.service';

const START = Date.UTC(2025, 2, 3, 9);

function recordingSink(clock?: VirtualClock, costMs = 0): { sink: MessageSink; batches: Array<{ at: number; size: number }>; messages: string[]; maxConcurrent: () => number } {
  const batches: Array<{ at: number; size: number }> = [];
  const messages: string[] = [];
  let inFlight = 0;
  let max = 0;
  const sink: MessageSink = async (batch) => {
    inFlight++;
    max = Math.max(max, inFlight);
    batches.push({ at: clock?.now() ?? 0, size: batch.length });
    messages.push(...batch.map((m) => m.payload));
    await Promise.resolve();
    clock?.advance(costMs);
    inFlight--;
  };
  return { sink, batches, messages, maxConcurrent: () => max };
}

const building = (): SimulatorService => new SimulatorService({ floors: 1, roomsPerFloor: 2, startMs: START, seed: 3 }); // 10 devices

describe('SimulatorRunner', () => {
  it('stops exactly at count and publishes the same messages as pulling ticks by hand', async () => {
    const clock = new VirtualClock();
    const rec = recordingSink(clock);
    const runner = new SimulatorRunner(building(), rec.sink, { count: 25, ratePerSec: 1000, speed: 0 }, clock);
    const stats = await runner.start();
    expect(stats).toMatchObject({ published: 25, stopReason: 'count', state: 'stopped', ticks: 3 });
    expect(rec.messages).toHaveLength(25);
    const byHand = building();
    const expected = [byHand.nextTick(), byHand.nextTick(), byHand.nextTick()].flat().slice(0, 25).map((m) => m.payload);
    expect(rec.messages).toEqual(expected);
  });

  it('holds the target rate: n messages take about n / ratePerSec seconds', async () => {
    const clock = new VirtualClock();
    const rec = recordingSink(clock);
    const stats = await new SimulatorRunner(building(), rec.sink, { count: 200, ratePerSec: 50, speed: 0 }, clock).start();
    expect(stats.published).toBe(200);
    expect(stats.elapsedMs).toBeGreaterThanOrEqual(3900);
    expect(stats.elapsedMs).toBeLessThanOrEqual(4100);
    // batches carry at most ~100 ms of the rate, and no window of 1 s holds more than the rate + one batch
    expect(Math.max(...rec.batches.map((b) => b.size))).toBeLessThanOrEqual(5);
    for (const b of rec.batches) {
      const inWindow = rec.batches.filter((x) => x.at >= b.at && x.at < b.at + 1000).reduce((s, x) => s + x.size, 0);
      expect(inWindow).toBeLessThanOrEqual(55);
    }
  });

  it('paces ticks by the simulated clock speed', async () => {
    const clock = new VirtualClock();
    const rec = recordingSink(clock);
    // 60 s sample interval at speed 60 → one tick (10 messages) per real second
    const stats = await new SimulatorRunner(building(), rec.sink, { count: 50, ratePerSec: 10_000, speed: 60 }, clock).start();
    expect(stats.ticks).toBe(5);
    expect(rec.batches.map((b) => Math.round(b.at))).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('stops after durationMs of real time', async () => {
    const clock = new VirtualClock();
    const rec = recordingSink(clock);
    const stats = await new SimulatorRunner(building(), rec.sink, { durationMs: 2500, ratePerSec: 100, speed: 0 }, clock).start();
    expect(stats.stopReason).toBe('duration');
    expect(stats.elapsedMs).toBeLessThanOrEqual(2500);
    expect(stats.published).toBeGreaterThanOrEqual(240);
    expect(stats.published).toBeLessThanOrEqual(260);
  });

  it('awaits the sink (one batch in flight) and slows down instead of bursting after a slow batch', async () => {
    const clock = new VirtualClock();
    const rec = recordingSink(clock, 500); // every publish takes 0.5 s
    const stats = await new SimulatorRunner(building(), rec.sink, { count: 30, ratePerSec: 1000, speed: 0, maxBatchSize: 10 }, clock).start();
    expect(rec.maxConcurrent()).toBe(1);
    expect(stats.published).toBe(30);
    expect(stats.elapsedMs).toBeGreaterThanOrEqual(1500);
  });

  it('ends when a replay is finished', async () => {
    const rows = parseOccupancyCsv(
      '"date","Temperature","Humidity","Light","CO2","HumidityRatio","Occupancy"\n' +
        '"1","2015-02-04 17:51:00",23.18,27.272,426,721.25,0.0047,1\n"2","2015-02-04 18:30:00",23.1,27.2,0,700,0.0047,0\n',
    );
    const sim = new SimulatorService({ replay: { floor: 'floor-1', room: 'r01', rows } });
    const rec = recordingSink();
    const stats = await new SimulatorRunner(sim, rec.sink, { speed: 0, ratePerSec: 1000 }, new VirtualClock()).start();
    expect(stats).toMatchObject({ published: 2, stopReason: 'finished', ticks: 40 });
  });

  it('stops on request, counts published messages per fault, and rejects a second start', async () => {
    const sim = building();
    sim.injectFault({ type: 'stuck', room: 'r01' });
    const clock = new VirtualClock();
    const ref: { runner?: SimulatorRunner } = {};
    const sink: MessageSink = async (batch) => {
      if (ref.runner!.stats().published + batch.length >= 40) void ref.runner!.stop();
      await Promise.resolve();
    };
    const runner = new SimulatorRunner(sim, sink, { ratePerSec: 100, speed: 0 }, clock);
    ref.runner = runner;
    const stats = await runner.start();
    expect(stats.stopReason).toBe('stopped');
    expect(stats.published).toBe(40);
    expect(stats.byFault.stuck).toBe(20); // half the devices are in r01
    expect(() => runner.start()).toThrow(/once/);
  });

  it('rejects when the sink fails and reports the error', async () => {
    const failing: MessageSink = () => Promise.reject(new Error('broker gone'));
    const runner = new SimulatorRunner(building(), failing, { count: 5, speed: 0 }, new VirtualClock());
    await expect(runner.start()).rejects.toThrow('broker gone');
    expect(runner.stats()).toMatchObject({ state: 'stopped', stopReason: 'error', error: 'broker gone' });
  });

  it('yields to the event loop during long runs of empty ticks', async () => {
    let ticks = 0;
    const source: TickSource = {
      sampleIntervalMs: 1000,
      get finished() {
        return ticks >= 5000;
      },
      nextTick: (): SimulatorMessage[] => {
        ticks++;
        return [];
      },
    };
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    const stats = await new SimulatorRunner(source, recordingSink().sink, { speed: 0 }, new VirtualClock()).start();
    expect(stats).toMatchObject({ ticks: 5000, published: 0, stopReason: 'finished' });
    expect(immediateRan).toBe(true);
  });

  it('runs on the real clock and stop() interrupts a long wait', async () => {
    const rec = recordingSink();
    const t0 = performance.now();
    const quick = await new SimulatorRunner(building(), rec.sink, { count: 20, ratePerSec: 400, speed: 0 }).start();
    expect(quick.published).toBe(20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    // speed 1: the second tick is due a full simulated minute later
    const slow = new SimulatorRunner(building(), recordingSink().sink, { speed: 1 });
    const done = slow.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const t1 = performance.now();
    const stats = await slow.stop();
    expect(performance.now() - t1).toBeLessThan(10_000);
    expect(stats).toMatchObject({ published: 10, stopReason: 'stopped', state: 'stopped' });
    await expect(done).resolves.toMatchObject({ published: 10 });
  });

  it('validates its options', () => {
    expect(() => new SimulatorRunner(building(), recordingSink().sink, { ratePerSec: 0 })).toThrow(/ratePerSec/);
    expect(() => new SimulatorRunner(building(), recordingSink().sink, { count: -1 })).toThrow(/count/);
  });
});
