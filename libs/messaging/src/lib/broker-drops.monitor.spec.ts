import { AiotMetrics } from '@aiot/observability';
import { BrokerDropsMonitor } from './broker-drops.monitor';

describe('BrokerDropsMonitor', () => {
  const setup = () => {
    const metrics = new AiotMetrics({ defaultMetrics: false });
    const warnings: Array<Record<string, unknown>> = [];
    const logger = { warn: (o: Record<string, unknown>) => warnings.push(o), debug: () => undefined, info: () => undefined, error: () => undefined } as never;
    const monitor = new BrokerDropsMonitor({ url: 'mqtt://127.0.0.1:1', clientId: 't' }, metrics, logger);
    const value = async () => Number(/^aiot_mqtt_broker_dropped_messages_total (\S+)$/m.exec(await metrics.metricsText())?.[1]);
    return { metrics, warnings, monitor, value };
  };

  it("mirrors the broker's dropped counter and warns with each increase, across a broker restart", async () => {
    const { warnings, monitor, value } = setup();
    monitor.observe(0);
    expect(await value()).toBe(0);
    expect(warnings).toHaveLength(0);
    monitor.observe(120);
    monitor.observe(120);
    monitor.observe(150);
    expect(await value()).toBe(150);
    expect(warnings.map((w) => w['dropped'])).toEqual([120, 30]);
    // The broker restarted: its counter starts again (a counter reset, as Prometheus' increase() expects).
    monitor.observe(7);
    expect(await value()).toBe(7);
    expect(warnings.map((w) => w['dropped'])).toEqual([120, 30, 7]);
    expect(monitor.dropped).toBe(7);
  });

  it('ignores what is not a count', async () => {
    const { monitor, value, warnings } = setup();
    monitor.observe(5);
    monitor.observe(Number.NaN);
    monitor.observe(-1);
    expect(await value()).toBe(5);
    expect(warnings).toHaveLength(1);
  });
});
