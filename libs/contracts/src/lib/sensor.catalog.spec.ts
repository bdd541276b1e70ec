import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { METRIC_KINDS } from './metrics';
import { DEFAULT_SENSOR_CATALOG } from './sensor-catalog.default';
import type { SensorCatalogFile } from './sensor-catalog.schema';
import { SensorCatalog } from './sensor.catalog';
import { affineConversion } from './unit.converter';

const catalog = SensorCatalog.default();
const value = (kind: string, v: number, unit?: string) => {
  const r = catalog.canonical(kind, v, unit);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe('the default sensor catalog', () => {
  it('covers the built-in kinds and what buildings measure', () => {
    for (const kind of [...METRIC_KINDS, 'pm2_5', 'pm10', 'tvoc', 'noise', 'pressure', 'energy', 'power', 'water_volume', 'contact', 'people_count', 'battery']) {
      expect(catalog.has(kind)).toBe(true);
    }
  });

  it('converts the built-in kinds as before', () => {
    expect(value('temperature', 122, 'degF')).toBeCloseTo(50);
    expect(value('temperature', 32, '°F')).toBeCloseTo(0);
    expect(value('temperature', 273.15, 'K')).toBeCloseTo(0);
    expect(value('temperature', 21, undefined)).toBe(21);
    expect(value('humidity', 0.45, '/')).toBeCloseTo(45);
    expect(value('co2', 600_000, 'ppb')).toBeCloseTo(600);
    expect(value('co2', 0.06, '%')).toBeCloseTo(600);
    expect(value('light', 1.2, 'klx')).toBeCloseTo(1200);
    expect(value('humidity_ratio', 4.5, 'g/kg')).toBeCloseTo(0.0045);
  });

  it('converts the new kinds through UCUM', () => {
    expect(value('energy', 3.6, 'MJ')).toBeCloseTo(1);
    expect(value('power', 1.5, 'kW')).toBeCloseTo(1500);
    expect(value('pressure', 29.92, 'inHg')).toBeCloseTo(1013.2, 1);
    expect(value('water_volume', 1, 'gal')).toBeCloseTo(0.0037854);
    expect(value('tvoc', 0.5, 'ppm')).toBeCloseTo(500);
    expect(value('noise', 42, 'dBA')).toBe(42);
  });

  it('refuses unknown kinds and units, non-finite and out-of-range values, with the metric path', () => {
    expect(catalog.canonical('radon', 1, undefined)).toMatchObject({ ok: false, error: { reason: 'unknown_metric', path: 'metrics.radon' } });
    expect(catalog.canonical('co2', 1, 'furlong')).toMatchObject({ ok: false, error: { reason: 'unknown_unit' } });
    expect(catalog.canonical('co2', Number.NaN, undefined)).toMatchObject({ ok: false, error: { reason: 'schema_violation' } });
    expect(catalog.canonical('pressure', 5, 'hPa')).toMatchObject({ ok: false, error: { reason: 'out_of_range', path: 'metrics.pressure' } });
  });

  it('takes no Object.prototype member for a kind or a unit', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(catalog.canonical(name, 1, undefined)).toMatchObject({ ok: false, error: { reason: 'unknown_metric' } });
      expect(catalog.canonical('temperature', 1, name)).toMatchObject({ ok: false, error: { reason: 'unknown_unit' } });
    }
  });
});

describe('affineConversion', () => {
  it('works a conversion out once from the UCUM definitions', () => {
    const c = affineConversion('[degF]', 'Cel');
    expect(c.scale).toBeCloseTo(5 / 9);
    expect(c.offset).toBeCloseTo(-160 / 9);
  });
  it('refuses codes that are not UCUM, incommensurable units and logarithmic ones', () => {
    expect(() => affineConversion('furlong', 'm')).toThrow(/"furlong" is not a UCUM code/);
    expect(() => affineConversion('m', 'm')).not.toThrow();
    expect(() => affineConversion('kg', 'Cel')).toThrow(/cannot convert kg to Cel/);
    expect(() => affineConversion('dB[SPL]', 'Pa')).toThrow();
  });
});

describe('SensorCatalog.fromFile', () => {
  const write = async (content: string) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'catalog-'));
    const file = path.join(dir, 'catalog.json');
    await writeFile(file, content);
    return file;
  };
  const withKind = (kind: object): string =>
    JSON.stringify({ version: 1, kinds: { radon: { unit: 'Bq/m3', ucum: 'Bq/m3', units: { 'Bq/m3': 'Bq/m3' }, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 }, ...kind } } });

  it('loads a site catalog with a kind the default lacks', async () => {
    const c = await SensorCatalog.fromFile(await write(withKind({ units: { 'Bq/m3': 'Bq/m3', 'pCi/L': 'pCi/L' } })));
    expect(c.kindNames).toEqual(['radon']);
    const r = c.canonical('radon', 4, 'pCi/L');
    expect(r.ok && r.value).toBeCloseTo(148);
  });

  it.each([
    ['a missing file', null, /cannot read sensor catalog .*missing\.json/],
    ['bad JSON', '{"version":1,', /is not valid JSON/],
    ['a bad kind name', JSON.stringify({ version: 1, kinds: { 'PM 2.5': (DEFAULT_SENSOR_CATALOG.kinds['pm2_5'] as object) } }), /kinds\.PM 2\.5: metric names are/],
    ['an inverted range', withKind({ range: { min: 5, max: 1 } }), /kinds\.radon\.range: range\.min must be below range\.max/],
    ['a unit that is not UCUM', withKind({ units: { x: 'furlong' } }), /kind "radon", unit "x": "furlong" is not a UCUM code/],
    ['a canonical unit that is not UCUM', withKind({ ucum: 'furlong', units: {} }), /kind "radon", canonical unit: "furlong" is not a UCUM code/],
    ['units that do not convert', withKind({ units: { kg: 'kg' } }), /kind "radon", unit "kg": cannot convert kg to Bq\/m3/],
    ['an unknown field', withKind({ colour: 'red' }), /kinds\.radon: Unrecognized key/],
  ])('refuses %s, naming the file and the fault', async (_n, content, message) => {
    const file = content === null ? path.join(tmpdir(), 'missing.json') : await write(content);
    await expect(SensorCatalog.fromFile(file)).rejects.toThrow(message);
  });

  it('the default catalog round-trips through a file', async () => {
    const file = await write(JSON.stringify(DEFAULT_SENSOR_CATALOG satisfies SensorCatalogFile));
    expect((await SensorCatalog.fromFile(file)).kindNames).toEqual(catalog.kindNames);
  });
});
