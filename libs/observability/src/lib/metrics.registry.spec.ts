import { AiotMetrics, Counter, defineMetrics } from './metrics.registry';

const featureMetrics = defineMetrics('feature', (registers) => ({
  things: new Counter<'kind'>({ name: 'aiot_test_things_total', help: 'Things.', labelNames: ['kind'], registers }),
}));

describe('AiotMetrics.of: a feature registers its own metrics', () => {
  it('creates the set in the registry on first use and returns the same metrics after', async () => {
    const metrics = new AiotMetrics({ defaultMetrics: false });
    expect(await metrics.metricsText()).not.toContain('aiot_test_things_total');
    const first = metrics.of(featureMetrics);
    first.things.inc({ kind: 'a' }, 2);
    expect(metrics.of(featureMetrics)).toBe(first);
    expect(await metrics.metricsText()).toMatch(/^aiot_test_things_total\{kind="a"\} 2$/m);
  });

  it('keeps the sets of two registries apart (edge-local and a test in one process)', async () => {
    const one = new AiotMetrics({ defaultMetrics: false });
    const two = new AiotMetrics({ defaultMetrics: false });
    one.of(featureMetrics).things.inc({ kind: 'a' });
    expect(two.of(featureMetrics)).not.toBe(one.of(featureMetrics));
    expect(await two.metricsText()).not.toMatch(/^aiot_test_things_total\{/m);
  });
});
