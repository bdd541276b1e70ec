import fc from 'fast-check';
import { METRIC_KINDS } from '@aiot/contracts';

/**
 * fast-check arbitraries for hostile device input, shared by the property tests in test/faults.
 * Payloads are generated as JSON *text*, not values, so that what JSON.stringify can never
 * produce still appears: NaN and Infinity tokens, 1e999, duplicate keys, `__proto__` keys, lone
 * surrogates, truncation and byte-level mutations.
 */

/** Keys that reach into Object.prototype when a parser or a lookup table is careless. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'] as const;

/** Every unit spelling ingest knows, plus some it must refuse. */
export const UNITS = ['Cel', 'degC', '°C', 'C', 'K', 'degF', '°F', 'F', '%RH', '%', 'RH', '/', 'ppm', 'ppb', 'lx', 'lux', 'klx', 'count', 'bool', '', 'kg/kg', 'g/kg', 'mol/m3', 'W', 'cd'];

const str = (s: string) => JSON.stringify(s);

/** `arb` about one time in `oneIn`, otherwise null (fc.option's `freq` counts the other way round). */
export function sometimes<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

/** Scalars as JSON text, including tokens JSON forbids. */
export const scalarText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '-0', '1e-999', '9007199254740993', '0x10', 'undefined', 'null', 'true', 'false', '""', '"\\u0000"', '"\\ud800"', '01', '.5', '+1', '1.', '"NaN"'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? '-0' : String(d))),
  fc.string({ unit: 'binary', maxLength: 24 }).map(str),
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS),
  fc.constantFrom(...METRIC_KINDS, 'deviceId', 'ts', 'seq', 'metrics', 'floor', 'room', 'value', 'unit', 'bn', 'bt', 'bu', 'bv', 'n', 'u', 'v', 'vb', 's', 't'),
  fc.string({ unit: 'binary', maxLength: 16 }),
);

/** Any JSON-ish text: nested arrays and objects with hostile keys and scalars. */
export const jsonishText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarText, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }).map((a) => `[${a.join(',')}]`),
  object: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 6 }).map((es) => `{${es.map(([k, v]) => `${str(k)}:${v}`).join(',')}}`),
})).value;

const objectText = (entries: Array<[string, string] | null>) => `{${entries.filter((e): e is [string, string] => e !== null).map(([k, v]) => `${str(k)}:${v}`).join(',')}}`;

export const DEVICES = ['d1', 'd2', 'd3'] as const;
const T0 = Date.UTC(2026, 0, 1);

/** A metric value as a device may send it: in range, out of range, with or without a unit, or junk. */
const metricValueText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: 100, noNaN: true }).map(String) },
  { weight: 2, arbitrary: fc.tuple(fc.double({ min: 0, max: 1000, noNaN: true }), fc.constantFrom(...UNITS, ...PROTOTYPE_KEYS)).map(([v, u]) => `{"value":${v},"unit":${str(u)}}`) },
  { weight: 1, arbitrary: fc.boolean().map(String) },
  { weight: 2, arbitrary: scalarText },
  { weight: 1, arbitrary: jsonishText },
);

/** Native readings as text: mostly well-formed (so de-duplication and normalisation are reached), often subtly wrong. */
export const nativeReadingText: fc.Arbitrary<string> = fc
  .record({
    deviceId: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...DEVICES).map(str) }, { weight: 1, arbitrary: scalarText }),
    ts: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: T0, max: T0 + 86_400_000 }).map(String) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_000_000_000 }).map(String) }, // seconds
      { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => str(d.toISOString())) },
      { weight: 1, arbitrary: fc.constantFrom('"2026-02-30T00:00:00Z"', '"2026-13-01T00:00:00Z"', '"2026-01-01T25:00:00Z"', '"+275760-09-13T00:00:00.001Z"', '"2026-01-01"', '"2026-01-01T00:00:00"', '"1999-12-31T23:59:59Z"') },
      { weight: 1, arbitrary: scalarText },
    ),
    seq: fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 40 }).map(String) }, { weight: 2, arbitrary: scalarText }),
    metrics: fc.oneof(
      { weight: 8, arbitrary: fc.array(fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...METRIC_KINDS) }, { weight: 1, arbitrary: hostileKey }), metricValueText), { maxLength: 5 }).map((es) => objectText(es)) },
      { weight: 1, arbitrary: jsonishText },
    ),
    floor: sometimes(fc.oneof({ weight: 4, arbitrary: fc.constant(str('floor-1')) }, { weight: 1, arbitrary: scalarText }), 3),
    room: sometimes(fc.oneof({ weight: 4, arbitrary: fc.constant(str('r1')) }, { weight: 1, arbitrary: scalarText }), 3),
    extra: sometimes(fc.tuple(hostileKey, jsonishText), 8),
  })
  .map((r) =>
    objectText([
      ['deviceId', r.deviceId],
      ['ts', r.ts],
      ['seq', r.seq],
      ['metrics', r.metrics],
      r.floor === null ? null : ['floor', r.floor],
      r.room === null ? null : ['room', r.room],
      r.extra,
    ]),
  );

const SENML_FIELDS = ['bn', 'bt', 'bu', 'bv', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut'] as const;

/** SenML packs (RFC 8428) as text: plausible records with base fields, plus hostile fields and values. */
export const senmlPackText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .record({
            bn: fc.option(fc.constantFrom('urn:dev:ow:10e2073a:', 'd1/', 'd2:', '', 'a b/c'), { freq: 3 }),
            bt: fc.option(fc.oneof(fc.integer({ min: T0 / 1000, max: T0 / 1000 + 86_400 }), fc.integer({ min: -100, max: 100 })), { freq: 3 }),
            n: fc.oneof(fc.constantFrom(...METRIC_KINDS, 'seq'), hostileKey),
            u: fc.option(fc.constantFrom(...UNITS, ...PROTOTYPE_KEYS), { freq: 2 }),
            v: fc.oneof(fc.double({ min: -10, max: 1000, noNaN: true }), fc.constant(undefined)),
            t: fc.option(fc.integer({ min: -5, max: 5 }), { freq: 2 }),
          })
          .map((r) => objectText(Object.entries(r).map(([k, v]) => (v === null || v === undefined ? null : [k, JSON.stringify(v)])))),
      },
      { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...SENML_FIELDS), hostileKey), scalarText), { maxLength: 6 }).map((es) => objectText(es)) },
      { weight: 1, arbitrary: jsonishText },
    ),
    { minLength: 0, maxLength: 8 },
  )
  .map((records) => `[${records.join(',')}]`);

/** Byte-level damage to a text: truncation, a replaced or inserted character, a stray byte. */
export function mutated(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(text, fc.nat(), fc.nat({ max: 3 }), fc.string({ unit: 'binary', maxLength: 3 })).map(([t, at, del, ins]) => {
    const i = t.length === 0 ? 0 : at % (t.length + 1);
    return t.slice(0, i) + ins + t.slice(i + del);
  });
}

/** Very deep nesting and very large values (fewer runs: each is big). */
export const monstrousText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 100, max: 200_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 100, max: 50_000 }).map((n) => `{"deviceId":"d1","ts":${T0},"seq":1,"metrics":{"co2":${'{"value":'.repeat(n)}1${'}'.repeat(n)}}}`),
  fc.integer({ min: 1_000, max: 10_000 }).map((n) => `{"deviceId":"d1","ts":${T0},"seq":1,"metrics":{${Array.from({ length: n }, (_, i) => `"m${i}":${i}`).join(',')}}}`),
  fc.integer({ min: 10_000, max: 1_000_000 }).map((n) => `{"deviceId":"${'d'.repeat(n)}","ts":${T0},"seq":1,"metrics":{"co2":1}}`),
  fc.integer({ min: 1_000, max: 5_000 }).map((n) => `[${Array.from({ length: n }, (_, i) => `{"n":"co2","v":${i},"t":${i}}`).join(',')}]`),
);

/** Plausible indoor values in canonical units, per metric kind. */
const PLAUSIBLE: Record<(typeof METRIC_KINDS)[number], [number, number]> = {
  temperature: [15, 30],
  humidity: [20, 80],
  co2: [400, 2000],
  light: [0, 1000],
  motion: [0, 1],
  humidity_ratio: [0.002, 0.01],
};

/**
 * A good reading from one of {@link DEVICES} on its own topic (native or SenML), with seqs from a
 * small range so redeliveries (duplicates) are common: what most of a real stream looks like.
 */
export function goodRecord(floor: string): fc.Arbitrary<{ topic: string; value: Buffer }> {
  return fc
    .record({
      device: fc.constantFrom(...DEVICES),
      seq: fc.nat({ max: 40 }),
      ts: fc.integer({ min: T0, max: T0 + 86_400_000 }),
      kinds: fc.subarray([...METRIC_KINDS], { minLength: 1 }),
      fractions: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: METRIC_KINDS.length, maxLength: METRIC_KINDS.length }),
      senml: fc.boolean(),
    })
    .map(({ device, seq, ts, kinds, fractions, senml }) => {
      const values = kinds.map((k, i) => [k, PLAUSIBLE[k][0] + fractions[i]! * (PLAUSIBLE[k][1] - PLAUSIBLE[k][0])] as const);
      const text = senml
        ? JSON.stringify([{ bn: `${device}/`, bt: ts / 1000, n: 'seq', v: seq }, ...values.map(([n, v]) => ({ n, v }))])
        : JSON.stringify({ deviceId: device, ts, seq, metrics: Object.fromEntries(values) });
      return { topic: `aiot/hq/${floor}/r1/${device}/telemetry`, value: Buffer.from(text) };
    });
}

/** Any device payload text, weighted towards the plausible. */
export const payloadText: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: nativeReadingText },
  { weight: 2, arbitrary: senmlPackText },
  { weight: 2, arbitrary: mutated(nativeReadingText) },
  { weight: 1, arbitrary: mutated(senmlPackText) },
  { weight: 1, arbitrary: jsonishText },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
);

/** Raw bytes: mostly UTF-8 text, sometimes bytes that are not UTF-8 at all. */
export const payloadBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 9, arbitrary: payloadText.map((t) => Buffer.from(t, 'utf8')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
);

/** MQTT topics: the device topic on known and unknown floors, and everything a topic may contain. */
export function mqttTopic(floors: readonly string[]): fc.Arbitrary<string> {
  const segment = fc.oneof(fc.constantFrom('hq', 'r1', 'd1', 'd2', 'x'), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('+', '#', '', ' ', '..', 'a/b', '$SYS', 'ünï', 'A'.repeat(200)));
  const floor = fc.oneof(fc.constantFrom(...floors), fc.constantFrom('floor-x', 'Floor-1', '-floor', 'f'.repeat(64), 'aiot', '_unrouted'), fc.string({ maxLength: 12 }));
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom('hq', 'site-2'), floor, fc.constantFrom('r1', 'r2'), fc.constantFrom(...DEVICES)).map(([s, f, r, d]) => `aiot/${s}/${f}/${r}/${d}/telemetry`) },
    { weight: 2, arbitrary: fc.tuple(segment, floor, segment, segment).map(([s, f, r, d]) => `aiot/${s}/${f}/${r}/${d}/telemetry`) },
    { weight: 1, arbitrary: fc.array(segment, { maxLength: 8 }).map((parts) => parts.join('/')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  );
}
