import fc from 'fast-check';
import { MAX_EVENT_TIME_MS, MIN_EVENT_TIME_MS } from './event-time';
import { DNS_LABEL, SEGMENT } from './floor.schema';
import { checkNativeReading } from './native-reading.checker';
import { protoKeyPath } from './proto-key.guard';
import { nativeReadingSchema, parseReadingPayload } from './reading.schema';
import { METRIC_NAME } from './sensor-catalog.schema';

/** Runs per property: enough to reach every branch of the generators many times, a few seconds in all. */
const RUNS = 3000;
/** CPU-bound properties on a shared 2-core machine: jest's 5 s default is too close. */
const PROPERTY_TIMEOUT_MS = 60_000;

/**
 * What the checker leaves to zod by design even where zod accepts: an RFC 3339 `ts`, and a metric
 * name or unit longer than its limit in UTF-16 units (zod counts code points, so it may still fit).
 */
function leftToZodByDesign(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { ts, metrics } = value as { ts?: unknown; metrics?: unknown };
  if (typeof ts === 'string') return true;
  if (typeof metrics !== 'object' || metrics === null) return false;
  return Object.entries(metrics).some(([name, metric]) => {
    const unit = typeof metric === 'object' && metric !== null ? (metric as { unit?: unknown }).unit : undefined;
    return name.length > 64 || (typeof unit === 'string' && unit.length > 16);
  });
}

/** Every key path of a JSON-like value: `['deviceId', 'metrics', 'metrics.co2', …]`. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((k) => [`${prefix}${k}`, ...keyPaths((value as Record<string, unknown>)[k], `${prefix}${k}.`)]);
}

/**
 * What the checker must hold to, for one value: it accepts only what the schema accepts, returns
 * the value itself, equal to zod's output (metrics in the same order, which become the reading's
 * metric order), and never lets a "__proto__" key through; for an object JSON.parse made, apart
 * from what it leaves to zod by design, it accepts exactly what the schema and the "__proto__"
 * guard accept.
 */
function expectAgreement(value: unknown, fromJson: boolean): boolean {
  const checked = checkNativeReading(value);
  const zod = nativeReadingSchema.safeParse(value);
  const noProtoKey = protoKeyPath(value, '', 3) === undefined;
  if (checked !== undefined) {
    expect(checked).toBe(value);
    expect(noProtoKey).toBe(true);
    expect(zod.success).toBe(true);
    // toEqual, not toStrictEqual: the latter compares `.constructor`, which is a metric's value
    // when a metric is named "constructor". The same keys (undefined values included) via
    // keyPaths; zod orders the reading's own keys by its shape, but keeps the metrics' order.
    expect(checked).toEqual(zod.data);
    expect(keyPaths(checked).sort()).toEqual(keyPaths(zod.data).sort());
    expect(Object.keys(checked.metrics)).toEqual(Object.keys(zod.data!.metrics));
  }
  if (fromJson && !leftToZodByDesign(value)) expect(checked !== undefined).toBe(zod.success && noProtoKey);
  return checked !== undefined;
}

const longString = (c: string, n: number) => c.repeat(n);

const segment = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(SEGMENT) },
  { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
  fc.constantFrom('', 'a/b', 'a+', '#', '-a', 'a\n', longString('a', 128), longString('a', 129), 'é', '1', 'urn:dev:ow:10e2073a'),
  fc.constantFrom(1, null, true, undefined, {}),
);
const floorId = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(DNS_LABEL) },
  fc.string({ maxLength: 5 }),
  fc.constantFrom('', 'f1', 'F1', 'a-', '-a', 'a_b', longString('a', 63), longString('a', 64), 'a\n'),
  fc.constantFrom(1, null, false, undefined),
);
const eventTime = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: MIN_EVENT_TIME_MS, max: MAX_EVENT_TIME_MS }) },
  { weight: 2, arbitrary: fc.integer({ min: MIN_EVENT_TIME_MS - 2, max: MIN_EVENT_TIME_MS + 2 }) },
  { weight: 2, arbitrary: fc.integer({ min: MAX_EVENT_TIME_MS - 2, max: MAX_EVENT_TIME_MS + 2 }) },
  fc.constantFrom(MIN_EVENT_TIME_MS - 1, MIN_EVENT_TIME_MS, MAX_EVENT_TIME_MS, MAX_EVENT_TIME_MS + 1, 0, -0, -1, 1764072000, 1764072000000.5),
  fc.constantFrom(NaN, Infinity, -Infinity, 2 ** 53, Number.MAX_VALUE, 1e300),
  fc.double(),
  fc.integer(),
  fc.constantFrom('2026-11-25T12:00:00Z', '2026-11-25T12:00:00.250+01:00', '2026-02-30T00:00:00Z', '1764072000000', ''),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(null, true, undefined, [], {}),
);
const sequence = fc.oneof(
  { weight: 6, arbitrary: fc.nat() },
  fc.maxSafeNat(),
  fc.integer({ min: -2, max: 2 }),
  fc.constantFrom(0, -0, -1, 0.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), NaN, Infinity, -Infinity),
  fc.double(),
  fc.constantFrom('1', null, true, undefined, [1]),
);
const metricName = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(METRIC_NAME) },
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', minLength: 60, maxLength: 66 }),
  fc.constantFrom('', longString('a', 64), longString('a', 65), longString('é', 64), longString('😀', 32), longString('😀', 33)),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '1', 'value', 'unit'),
);
const unit = fc.oneof(
  fc.constantFrom('ppm', 'Cel', '%RH', '', longString('u', 16), longString('u', 17), longString('😀', 8), longString('😀', 9)),
  fc.string({ maxLength: 18 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(1, null, true, undefined),
);
const scalar = fc.oneof(
  { weight: 4, arbitrary: fc.double() }, // NaN, ±Infinity, -0 and subnormals included
  fc.integer(),
  fc.boolean(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE),
);
const metricObject = fc.record(
  {
    value: fc.oneof({ weight: 5, arbitrary: scalar }, fc.constantFrom('600', null, undefined, [1], {})),
    unit,
    extra: fc.constantFrom(1, 'x', null),
    ['__proto__']: fc.constantFrom({ unit: 'ppb' }, 1),
  },
  { requiredKeys: [] },
);
const metricValue = fc.oneof(
  { weight: 5, arbitrary: scalar },
  { weight: 3, arbitrary: metricObject },
  fc.constantFrom('600', '', null, undefined, [], [1], {}),
  fc.anything(),
);
const metrics = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(metricName, metricValue, { maxKeys: 5, noNullPrototype: true }) },
  fc.dictionary(metricName, metricValue, { maxKeys: 3 }), // null-prototype objects too
  fc.constantFrom({}, null, [], [{ co2: 1 }], 1, 'co2', undefined),
);
const reading = fc.record(
  {
    deviceId: segment,
    ts: eventTime,
    seq: sequence,
    floor: floorId,
    room: segment,
    metrics,
    extra: fc.anything(),
    ['__proto__']: fc.constantFrom({ deviceId: 'x' }, 1),
  },
  { requiredKeys: [] },
);
const validValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.record({ value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()), unit: fc.string({ maxLength: 16 }) }, { requiredKeys: ['value'] }),
);
/** Native readings the schema accepts, with a numeric `ts`: what devices send. */
const wellFormed = fc.record(
  {
    deviceId: fc.stringMatching(SEGMENT),
    ts: fc.integer({ min: MIN_EVENT_TIME_MS, max: MAX_EVENT_TIME_MS }),
    seq: fc.oneof(fc.nat(), fc.maxSafeNat()),
    floor: fc.stringMatching(DNS_LABEL),
    room: fc.stringMatching(SEGMENT),
    metrics: fc.dictionary(fc.stringMatching(METRIC_NAME), validValue, { minKeys: 1, maxKeys: 6, noNullPrototype: true }),
  },
  { requiredKeys: ['deviceId', 'ts', 'seq', 'metrics'], noNullPrototype: true },
);
/** A well-formed reading with one field set to something else, or one metric added from the wide generators. */
const nearlyValid = fc.oneof(
  fc
    .tuple(
      wellFormed,
      fc.oneof(
        fc.record({ deviceId: segment }),
        fc.record({ ts: eventTime }),
        fc.record({ seq: sequence }),
        fc.record({ floor: floorId }),
        fc.record({ room: segment }),
        fc.record({ metrics }),
        fc.record({ extra: fc.anything() }),
      ),
    )
    .map(([r, over]) => ({ ...r, ...over })),
  fc.tuple(wellFormed, metricName, metricValue).map(([r, name, v]) => ({ ...r, metrics: { ...r.metrics, [name]: v } })),
  fc.tuple(wellFormed, fc.stringMatching(METRIC_NAME), metricObject).map(([r, name, v]) => ({ ...r, metrics: { ...r.metrics, [name]: v } })),
  fc
    .tuple(wellFormed, fc.stringMatching(METRIC_NAME), scalar, unit)
    .map(([r, name, value, u]) => ({ ...r, metrics: { ...r.metrics, [name]: { value, unit: u } } })),
);

describe('checkNativeReading: the hand-written check agrees with nativeReadingSchema', () => {
  it('accepts only what zod accepts, returning an equal value, over generated values', () => {
    fc.assert(fc.property(fc.oneof(reading, wellFormed, nearlyValid, fc.anything()), (v) => void expectAgreement(v, false)), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('accepts exactly what zod and the "__proto__" guard accept, for objects JSON.parse made (but an RFC 3339 ts and over-long strings, left to zod)', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(reading, wellFormed, nearlyValid, nearlyValid), (v) => {
        const text = JSON.stringify(v);
        if (text === undefined) return;
        if (expectAgreement(JSON.parse(text) as unknown, true)) accepted++;
        else refused++;
      }),
      { numRuns: RUNS },
    );
    // Both sides of the equivalence were reached, not just one.
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(refused).toBeGreaterThan(RUNS / 10);
  }, PROPERTY_TIMEOUT_MS);

  it('takes every well-formed native reading with a numeric ts (the fast path is the common path)', () => {
    fc.assert(
      fc.property(wellFormed, (v) => {
        expect(checkNativeReading(JSON.parse(JSON.stringify(v)) as unknown)).toBeDefined();
      }),
      { numRuns: RUNS },
    );
  }, PROPERTY_TIMEOUT_MS);

  const t = Date.UTC(2026, 0, 1);
  const base = { deviceId: 'd1', ts: t, seq: 1, metrics: { co2: 612 } };
  const text = (over: Record<string, unknown>) => JSON.stringify({ ...base, ...over });
  /** The smallest reading's text with `from` (which must occur) replaced: for what JSON.stringify cannot write. */
  const edit = (from: string, to: string, over: Record<string, unknown> = {}) => {
    const source = text(over);
    if (!source.includes(from)) throw new Error(`${from} not in ${source}`);
    return source.replace(from, to);
  };
  it.each([
    // [case, payload text, schema accepts, checker takes it]
    ['the smallest reading', text({}), true, true],
    ['floor and room', text({ floor: 'f-1', room: 'r.1:a_b' }), true, true],
    ['metric objects with and without unit, booleans', text({ metrics: { co2: { value: 600, unit: 'ppm' }, t: { value: true }, m: false } }), true, true],
    ['ts at the lower bound', text({ ts: MIN_EVENT_TIME_MS }), true, true],
    ['ts at the upper bound', text({ ts: MAX_EVENT_TIME_MS }), true, true],
    ['ts below the range', text({ ts: MIN_EVENT_TIME_MS - 1 }), false, false],
    ['ts above the range', text({ ts: MAX_EVENT_TIME_MS + 1 }), false, false],
    ['fractional ts', text({ ts: t + 0.5 }), false, false],
    ['RFC 3339 ts (left to zod)', text({ ts: '2026-11-25T12:00:00Z' }), true, false],
    ['impossible RFC 3339 date', text({ ts: '2026-02-30T00:00:00Z' }), false, false],
    ['seq -0', edit('"seq":1', '"seq":-0'), true, true],
    ['seq 2^53 - 1', text({ seq: 2 ** 53 - 1 }), true, true],
    ['seq 2^53 (not a safe integer)', text({ seq: 2 ** 53 }), false, false],
    ['seq 1.5', text({ seq: 1.5 }), false, false],
    ['seq as a string', text({ seq: '1' }), false, false],
    ['metric value 1e999 (JSON.parse makes Infinity)', edit('"co2":612', '"co2":1e999'), false, false],
    ['metric value -1e999', edit('"co2":612', '"co2":-1e999'), false, false],
    ['metric value null', text({ metrics: { co2: null } }), false, false],
    ['metric value a string', text({ metrics: { co2: '600' } }), false, false],
    ['metric value an array', text({ metrics: { co2: [600] } }), false, false],
    ['metric object with an extra key', text({ metrics: { co2: { value: 600, unit: 'ppm', at: 1 } } }), false, false],
    ['metric object without value', text({ metrics: { co2: { unit: 'ppm' } } }), false, false],
    ['unit of 16 characters', text({ metrics: { co2: { value: 1, unit: 'u'.repeat(16) } } }), true, true],
    ['unit of 17 characters', text({ metrics: { co2: { value: 1, unit: 'u'.repeat(17) } } }), false, false],
    ['unit of 8 emoji (16 UTF-16 units)', text({ metrics: { co2: { value: 1, unit: '😀'.repeat(8) } } }), true, true],
    // zod counts code points; the checker counts UTF-16 units and leaves longer strings to zod.
    ['unit of 9 emoji (18 UTF-16 units, 9 code points)', text({ metrics: { co2: { value: 1, unit: '😀'.repeat(9) } } }), true, false],
    ['unit of 17 emoji', text({ metrics: { co2: { value: 1, unit: '😀'.repeat(17) } } }), false, false],
    ['unit of 17 lone surrogates', text({ metrics: { co2: { value: 1, unit: '\ud83d'.repeat(17) } } }), false, false],
    ['metric name of 64 emoji', text({ metrics: { ['😀'.repeat(64)]: 1 } }), true, false],
    ['metric name of 65 emoji', text({ metrics: { ['😀'.repeat(65)]: 1 } }), false, false],
    ['metric name of 64 characters', text({ metrics: { ['a'.repeat(64)]: 1 } }), true, true],
    ['metric name of 65 characters', text({ metrics: { ['a'.repeat(65)]: 1 } }), false, false],
    ['empty metric name', text({ metrics: { '': 1 } }), false, false],
    ['metrics named like Object.prototype members', text({ metrics: { constructor: { value: false }, toString: 1, hasOwnProperty: true } }), true, true],
    ['no metrics', text({ metrics: {} }), false, false],
    ['metrics an array', text({ metrics: [1] }), false, false],
    ['deviceId of 128 characters', text({ deviceId: 'd'.repeat(128) }), true, true],
    ['deviceId of 129 characters', text({ deviceId: 'd'.repeat(129) }), false, false],
    ['deviceId with a slash', text({ deviceId: 'a/b' }), false, false],
    ['deviceId ending in a newline', text({ deviceId: 'd1\n' }), false, false],
    ['floor of 63 characters', text({ floor: 'f'.repeat(63) }), true, true],
    ['floor of 64 characters', text({ floor: 'f'.repeat(64) }), false, false],
    ['floor in upper case', text({ floor: 'F1' }), false, false],
    ['room null', text({ room: null }), false, false],
    ['an unknown key', text({ extra: 1 }), false, false],
    ['deviceId missing', JSON.stringify({ ts: t, seq: 1, metrics: { co2: 1 } }), false, false],
    ['"__proto__" in the reading', edit('{', '{"__proto__":{"x":1},'), false, false],
    ['"__proto__" as a metric', edit('"co2":612', '"co2":612,"__proto__":1'), false, false],
    ['"__proto__" in a metric object', edit('"value":1', '"value":1,"__proto__":{"unit":"ppb"}', { metrics: { co2: { value: 1 } } }), false, false],
  ])('%s', (_name, payload, accepted, fast) => {
    const json = JSON.parse(payload) as unknown;
    expect(checkNativeReading(json) !== undefined).toBe(fast);
    expect(nativeReadingSchema.safeParse(json).success && protoKeyPath(json, '', 3) === undefined).toBe(accepted);
    const parsed = parseReadingPayload(payload, { fallbackDeviceId: 'x', nowMs: t });
    expect(parsed.ok).toBe(accepted);
    if (!parsed.ok) expect(parsed.error.reason).toBe('schema_violation');
  });

  it('gives the same reading through the checker as through zod, metrics in the order sent', () => {
    const payload = '{"seq":3,"metrics":{"b":1,"a":{"value":true,"unit":"x"},"2":-0,"c":{"value":2}},"ts":1767225600000,"deviceId":"d1","room":"r1"}';
    const fast = parseReadingPayload(payload, { fallbackDeviceId: 'x', nowMs: t });
    // The same reading with an RFC 3339 ts, which only zod takes.
    const slow = parseReadingPayload(payload.replace('1767225600000', '"2026-01-01T00:00:00Z"'), { fallbackDeviceId: 'x', nowMs: t });
    expect(slow).toStrictEqual(fast);
    expect(fast.ok && fast.value[0]!.metrics.map((m) => m.name)).toEqual(['2', 'b', 'a', 'c']);
  });

  it('leaves refusals to zod, so the DLQ reason and message are the schema\'s', () => {
    expect(parseReadingPayload(text({ metrics: { co2: 'x' } }), { fallbackDeviceId: 'x', nowMs: t })).toEqual({
      ok: false,
      error: { reason: 'schema_violation', message: expect.stringMatching(/^metrics\.co2: /) as unknown, path: 'metrics.co2' },
    });
  });
});
