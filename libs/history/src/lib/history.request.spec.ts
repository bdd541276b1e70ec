import { DAY_MS, HOUR_MS, MINUTE_MS } from './history.options';
import { HISTORY_METRICS, historyMetricNames, parseDuration, parseSeriesRequest, parseTime } from './history.request';

describe('history request parsing', () => {
  it('reads durations with units, and plain numbers as seconds', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(5 * MINUTE_MS);
    expect(parseDuration('1h')).toBe(HOUR_MS);
    expect(parseDuration('7d')).toBe(7 * DAY_MS);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('90')).toBe(90_000);
    for (const bad of ['', 'm', '5 m', '-1m', '1w', '0ms']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('reads times as epoch ms or RFC 3339 with a zone, and refuses seconds or zone-less dates', () => {
    expect(parseTime('1767225600000')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('2026-01-01T01:00:00+01:00')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('1767225600')).toBeUndefined(); // seconds, not ms
    expect(parseTime('2026-01-01T00:00:00')).toBeUndefined(); // no zone
    expect(parseTime('yesterday')).toBeUndefined();
  });

  it('defaults to the last 24 h at a step giving at most 720 points', () => {
    const now = Date.UTC(2026, 2, 1, 12);
    const r = parseSeriesRequest({ floor: 'floor-1', room: 'r01', metric: 'co2' }, now);
    expect(r).toEqual({ ok: true, value: { floor: 'floor-1', room: 'r01', metrics: ['co2'], fromMs: now - DAY_MS, toMs: now, stepMs: 5 * MINUTE_MS, format: 'json' } });
    const month = parseSeriesRequest({ floor: 'floor-1', metric: 'co2,occupied,co2', from: String(now - 30 * DAY_MS), to: String(now) }, now);
    expect(month.ok && month.value.stepMs).toBe(HOUR_MS);
    expect(month.ok && month.value.metrics).toEqual(['co2', 'occupied']);
  });

  it('lists every problem of a bad request', () => {
    const r = parseSeriesRequest({ floor: 'Floor_1', metric: 'co2,nope', step: 'fast', extra: 'x' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems.join('\n');
    expect(problems).toMatch(/floor/);
    expect(problems).toMatch(/metric must be one of/);
    expect(problems).toMatch(/step must be a duration/);
    expect(problems).toMatch(/Unrecognized key/);
  });

  it('bounds the work: too many points, reversed or too long ranges', () => {
    const now = Date.UTC(2026, 2, 1);
    const many = parseSeriesRequest({ floor: 'floor-1', metric: 'co2', step: '1s', from: String(now - DAY_MS), to: String(now) }, now);
    expect(many.ok ? '' : many.problems.join()).toMatch(/86400 points per metric is more than 10000/);
    const reversed = parseSeriesRequest({ floor: 'floor-1', metric: 'co2', from: String(now), to: String(now - 1) }, now);
    expect(reversed.ok ? '' : reversed.problems.join()).toMatch(/from must be before to/);
    const long = parseSeriesRequest({ floor: 'floor-1', metric: 'co2', step: '1d', from: '2001-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, now);
    expect(long.ok ? '' : long.problems.join()).toMatch(/at most 5 years/);
  });

  it('accepts the kinds of the deployment catalog, and names what it accepts when refusing one', () => {
    const now = Date.UTC(2026, 2, 1);
    const names = historyMetricNames(['co2', 'radon', 'noise']);
    expect([...names].sort()).toEqual([...HISTORY_METRICS, 'radon'].sort());
    // The built-in catalog's kinds beyond the six original ones are served without a file.
    for (const k of ['pm2_5', 'noise', 'people_count', 'occupied']) expect(HISTORY_METRICS).toContain(k);
    const ok = parseSeriesRequest({ floor: 'floor-1', room: 'r01', metric: 'radon,co2,occupied' }, now, names);
    expect(ok.ok && ok.value.metrics).toEqual(['radon', 'co2', 'occupied']);
    // Without a catalog file (the built-in catalog only) radon is refused, as is a name no catalog lists.
    const builtIn = parseSeriesRequest({ floor: 'floor-1', metric: 'radon' }, now);
    expect(builtIn.ok ? '' : builtIn.problems.join()).toMatch(/unknown metric "radon": metric must be one of temperature, .*pm2_5/);
    const unknown = parseSeriesRequest({ floor: 'floor-1', metric: 'radon,ozone' }, now, names);
    expect(unknown.ok).toBe(false);
    const problems = unknown.ok ? '' : unknown.problems.join('\n');
    expect(problems).toMatch(/unknown metric "ozone": metric must be one of .*\bnoise\b.*\bradon\b/);
    expect(problems).not.toMatch(/"radon"/);
  });
});
