import { ConfigError, loadConfig } from '@aiot/observability';
import { dashboardEnvSchema } from './dashboard.env';

describe('dashboard environment', () => {
  const base = { KAFKA_BROKERS: 'kafka:9092' };

  it('parses DASHBOARD_HEALTH_TARGETS into named http(s) targets; unset is none', () => {
    const env = loadConfig(dashboardEnvSchema, { ...base, DASHBOARD_HEALTH_TARGETS: 'ingest floor 1=http://sensor-ingest.floor-1:8080/health/ready, bridge=https://bridge:8443/health/ready' });
    expect(env.DASHBOARD_HEALTH_TARGETS).toEqual([
      { name: 'ingest floor 1', url: 'http://sensor-ingest.floor-1:8080/health/ready' },
      { name: 'bridge', url: 'https://bridge:8443/health/ready' },
    ]);
    expect(loadConfig(dashboardEnvSchema, base).DASHBOARD_HEALTH_TARGETS).toEqual([]);
  });

  it('refuses a bad target at start-up, naming the variable, the entry and the problem', () => {
    const load = (targets: string) => () => loadConfig(dashboardEnvSchema, { ...base, DASHBOARD_HEALTH_TARGETS: targets });
    expect(load('ingest=http://ingest:8080/health/ready,bridge')).toThrow(ConfigError);
    expect(load('ingest=http://ingest:8080/health/ready,bridge')).toThrow(/DASHBOARD_HEALTH_TARGETS\.1: health target "bridge" must be name=url/);
    expect(load('ingest=ftp://ingest/health')).toThrow(/DASHBOARD_HEALTH_TARGETS\.0: health target "ingest": "ftp:\/\/ingest\/health" is not an http\(s\) URL/);
  });
});
