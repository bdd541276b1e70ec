import { parseReadingPayload } from './reading.schema';

const ctx = { fallbackDeviceId: 'd1', nowMs: Date.UTC(2026, 10, 25, 12) };

describe('parseReadingPayload (native)', () => {
  it('resolves metrics with and without units, numbers and booleans', () => {
    const r = parseReadingPayload(
      JSON.stringify({ deviceId: 'd1', ts: 1764072000000, seq: 7, metrics: { temperature: 21.5, co2: { value: 600, unit: 'ppm' }, motion: true } }),
      ctx,
    );
    expect(r).toEqual({
      ok: true,
      value: [
        {
          format: 'native',
          deviceId: 'd1',
          ts: 1764072000000,
          seq: 7,
          metrics: [
            { name: 'temperature', value: 21.5 },
            { name: 'co2', value: 600, unit: 'ppm' },
            { name: 'motion', value: 1 },
          ],
        },
      ],
    });
  });

  it('accepts RFC 3339 event time', () => {
    const r = parseReadingPayload(JSON.stringify({ deviceId: 'd1', ts: '2026-11-25T12:00:00.250+01:00', seq: 1, metrics: { co2: 500 } }), ctx);
    expect(r.ok && r.value[0]!.ts).toBe(Date.UTC(2026, 10, 25, 11, 0, 0, 250));
  });

  it.each([
    ['not json', '{"deviceId":', 'malformed_json'],
    ['seconds instead of ms', JSON.stringify({ deviceId: 'd1', ts: 1764072000, seq: 1, metrics: { co2: 1 } }), 'schema_violation'],
    ['string value', JSON.stringify({ deviceId: 'd1', ts: 1764072000000, seq: 1, metrics: { co2: '600' } }), 'schema_violation'],
    ['negative seq', JSON.stringify({ deviceId: 'd1', ts: 1764072000000, seq: -1, metrics: { co2: 1 } }), 'schema_violation'],
    ['no metrics', JSON.stringify({ deviceId: 'd1', ts: 1764072000000, seq: 1, metrics: {} }), 'schema_violation'],
    ['unknown field', JSON.stringify({ deviceId: 'd1', ts: 1764072000000, seq: 1, metrics: { co2: 1 }, extra: 1 }), 'schema_violation'],
    ['bad device id', JSON.stringify({ deviceId: 'a/b', ts: 1764072000000, seq: 1, metrics: { co2: 1 } }), 'schema_violation'],
  ])('refuses %s with reason %s', (_name, payload, reason) => {
    const r = parseReadingPayload(payload, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toBe(reason);
  });

  it('names the offending field in the error path', () => {
    const r = parseReadingPayload(JSON.stringify({ deviceId: 'd1', ts: 1764072000000, seq: 1, metrics: { co2: 'x' } }), ctx);
    expect(!r.ok && r.error.path).toBe('metrics.co2');
  });
});

describe('parseReadingPayload (SenML, RFC 8428)', () => {
  it('resolves base name, base time and base unit (§4.6 example style)', () => {
    const pack = [
      { bn: 'urn:dev:ow:10e2073a01080063:', bt: 1.764072e9, bu: 'Cel', n: 'temperature', v: 23.1 },
      { n: 'humidity', u: '%RH', v: 41 },
      { n: 'seq', v: 12 },
      { n: 'temperature', t: 60, v: 23.4 },
    ];
    const r = parseReadingPayload(JSON.stringify(pack), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual([
      {
        format: 'senml',
        deviceId: 'urn:dev:ow:10e2073a01080063',
        ts: 1.764072e12,
        seq: 12,
        metrics: [
          { name: 'temperature', value: 23.1, unit: 'Cel' },
          { name: 'humidity', value: 41, unit: '%RH' },
        ],
      },
      { format: 'senml', deviceId: 'urn:dev:ow:10e2073a01080063', ts: 1.764072e12 + 60_000, seq: 1.764072e12 + 60_000, metrics: [{ name: 'temperature', value: 23.4, unit: 'Cel' }] },
    ]);
  });

  it('treats small times as relative to now (§4.5.3)', () => {
    const r = parseReadingPayload(JSON.stringify([{ n: 'co2', u: 'ppm', v: 700, t: -5 }]), ctx);
    expect(r.ok && r.value[0]).toMatchObject({ deviceId: 'd1', ts: ctx.nowMs - 5000 });
  });

  it('refuses records without a value or name', () => {
    const noValue = parseReadingPayload(JSON.stringify([{ bn: 'd1/', n: 'co2', bt: 1.764072e9 }]), ctx);
    expect(!noValue.ok && noValue.error.reason).toBe('schema_violation');
    const noName = parseReadingPayload(JSON.stringify([{ v: 1, bt: 1.764072e9 }]), ctx);
    expect(!noName.ok && noName.error.message).toMatch(/no name/);
  });

  it('refuses "__proto__" keys, which the schema parser would otherwise drop silently, and times that are not dates', () => {
    const t = Date.UTC(2026, 0, 1);
    const reasons = [
      `{"deviceId":"d1","ts":${t},"seq":1,"metrics":{"co2":600,"__proto__":1}}`,
      `{"deviceId":"d1","ts":${t},"seq":1,"__proto__":{"x":1},"metrics":{"co2":600}}`,
      `{"deviceId":"d1","ts":${t},"seq":1,"metrics":{"co2":{"value":600,"__proto__":{"unit":"ppb"}}}}`,
      `[{"n":"co2","v":1,"bt":1.764072e9,"__proto__":{"v":5}}]`,
      '{"deviceId":"d1","ts":"2026-02-30T00:00:00Z","seq":1,"metrics":{"co2":600}}',
      '{"deviceId":"d1","ts":1e300,"seq":1,"metrics":{"co2":600}}',
      '[{"n":"co2","s":0,"bt":9007199254740.992}]',
    ].map((text) => {
      const r = parseReadingPayload(text, ctx);
      return r.ok ? 'accepted' : r.error.reason;
    });
    expect(reasons).toEqual(Array(7).fill('schema_violation'));
  });
});
