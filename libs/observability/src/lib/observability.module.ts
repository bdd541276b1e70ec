import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { AiotMetrics } from './metrics.registry';
import { METRICS, PROBES, ProbeRegistry } from './probe.registry';

/** Health and metrics endpoints plus the process-wide metrics registry and probe registry. */
@Module({})
export class ObservabilityModule {
  static forRoot(options: { metrics?: AiotMetrics; probes?: ProbeRegistry } = {}): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: METRICS, useValue: options.metrics ?? new AiotMetrics() },
        { provide: PROBES, useValue: options.probes ?? new ProbeRegistry() },
      ],
      exports: [METRICS, PROBES],
    };
  }
}
