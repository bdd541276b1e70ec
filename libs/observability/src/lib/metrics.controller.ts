import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Registry } from 'prom-client';
import { METRICS } from './probe.registry';
import type { AiotMetrics } from './metrics.registry';

/** Prometheus scrape endpoint (text exposition format 0.0.4). */
@Controller()
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: AiotMetrics) {}

  @Get('metrics')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.metricsText();
  }
}
