export * from './lib/logger';
export * from './lib/metrics.registry';
export * from './lib/config.loader';
export * from './lib/probe.registry';
export * from './lib/health.controller';
export * from './lib/metrics.controller';
export * from './lib/observability.module';
export * from './lib/service.bootstrap';
