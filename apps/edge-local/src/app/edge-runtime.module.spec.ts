import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BridgeService } from '@aiot/bridge';
import { DEVICE_LINK, EVENT_BUS, EventBusModule, InProcessEventBus } from '@aiot/messaging';
import { AiotMetrics, ObservabilityModule, silentLogger } from '@aiot/observability';
import { edgeLocalEnvSchema } from './edge-local.env';
import { EdgeRuntimeModule } from './edge-runtime.module';
import { EdgeRuntime, loadEdgeSensors } from './edge.runtime';
import { FloorManager } from './floor.manager';

describe('edge-local composition', () => {
  let mod: INestApplicationContext;

  beforeEach(async () => {
    const env = edgeLocalEnvSchema.parse({ MQTT_BROKER: 'aedes', SIM_ENABLED: 'false', HISTORY_ENABLED: 'false' });
    @Module({ imports: [ObservabilityModule.forRoot({ metrics: new AiotMetrics({ defaultMetrics: false }) }), EventBusModule.forInProcess(), EdgeRuntimeModule.forRoot(env, silentLogger, await loadEdgeSensors(env))] })
    class TestModule {}
    mod = await NestFactory.createApplicationContext(TestModule, { logger: false });
  });

  afterEach(async () => {
    await mod.get(FloorManager).stop();
    await mod.get(EdgeRuntime).broker.close(); // aedes, chosen but never listening
    await mod.close();
  });

  it('runs the runtime and the bridge on the bus and link the EVENT_BUS and DEVICE_LINK factories provide', () => {
    const runtime = mod.get(EdgeRuntime);
    const bus = mod.get(EVENT_BUS);
    expect(bus).toBeInstanceOf(InProcessEventBus);
    expect(runtime.bus).toBe(bus);
    expect(runtime.bridge).toBe(mod.get(BridgeService));
    expect((runtime as unknown as { bridgeLink: unknown }).bridgeLink).toBe(mod.get(DEVICE_LINK));
  });

  it("starts a floor's services when the bus creates its raw topic, and only then", async () => {
    const bus = mod.get<InProcessEventBus>(EVENT_BUS);
    const floors = mod.get(FloorManager);
    await bus.ensureTopics(['aiot.floor-7.alerts']);
    expect(await floors.all()).toHaveLength(0);
    await bus.ensureTopics(['aiot.floor-7.telemetry.raw']);
    expect((await floors.all()).map((f) => f.floor)).toEqual(['floor-7']);
  });
});
