import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { PROBES, type ProbeRegistry, type ProbeResult } from './probe.registry';

/** `/health/live` and `/health/ready` (terminus): 200 when every probe is up, 503 otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(PROBES) private readonly probes: ProbeRegistry,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check(this.toIndicators(this.probes.evaluateLiveness()));
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.toIndicators(this.probes.evaluateReadiness()));
  }

  private toIndicators(results: Record<string, ProbeResult>): Array<() => HealthIndicatorResult> {
    return Object.entries(results).map(([name, r]) => () => {
      const indicator = this.indicators.check(name);
      return r.up ? indicator.up(r.details) : indicator.down(r.details);
    });
  }
}
