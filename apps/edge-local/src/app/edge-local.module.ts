import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { DashboardModule, defaultWebRoot } from '@aiot/dashboard';
import { HistoryHttpModule } from '@aiot/history';
import { InferenceHttpModule } from '@aiot/inference';
import { ObservabilityModule, type Logger } from '@aiot/observability';
import { EdgeRuntime } from './edge.runtime';
import { StatusController } from './status.controller';

const LOGGER = Symbol.for('aiot.Logger');

@Injectable()
class EdgeLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(EdgeRuntime) private readonly runtime: EdgeRuntime,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.logger.info('stopping edge-local: draining simulator, bridge and floors');
    await this.runtime.stop();
  }
}

@Module({})
export class EdgeLocalModule {
  static forRoot(runtime: EdgeRuntime, logger: Logger): DynamicModule {
    return {
      module: EdgeLocalModule,
      imports: [
        ObservabilityModule.forRoot({ metrics: runtime.metrics, probes: runtime.probes }),
        InferenceHttpModule.forEngine(runtime.inference), // Open Inference Protocol v2 at /v2
        DashboardModule.forRoot({ state: runtime.dashboard, webRoot: defaultWebRoot(), logger }), // dashboard at /
        HistoryHttpModule.forQuery(() => runtime.history?.store?.query), // /api/history (503 while opening or with HISTORY_ENABLED=false)
      ],
      controllers: [StatusController],
      providers: [{ provide: EdgeRuntime, useValue: runtime }, { provide: LOGGER, useValue: logger }, EdgeLifecycle],
    };
  }
}
