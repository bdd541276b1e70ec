import { readFile } from 'node:fs/promises';
import { fail, ok, type ParseResult } from './result';
import { DEFAULT_SENSOR_CATALOG } from './sensor-catalog.default';
import { parseSensorCatalogFile, type SensorCatalogFile, type SensorKind } from './sensor-catalog.schema';
import { affineConversion, type AffineConversion } from './unit.converter';

interface CompiledKind {
  spec: SensorKind;
  /** Accepted unit spelling → conversion to the canonical unit. */
  units: Map<string, AffineConversion>;
}

/**
 * The sensor catalog ready for ingest (and for anything else converting units: the simulator's
 * specs check what it emits with it): every kind's accepted units resolved to conversions once,
 * at start-up, so a bad catalog fails there with the kind and unit named, never per reading.
 */
export class SensorCatalog {
  private readonly kinds = new Map<string, CompiledKind>();

  constructor(readonly file: SensorCatalogFile) {
    for (const [name, spec] of Object.entries(file.kinds)) {
      const units = new Map<string, AffineConversion>();
      try {
        affineConversion(spec.ucum, spec.ucum); // the canonical code itself must be UCUM
      } catch (err) {
        throw new Error(`kind "${name}", canonical unit: ${(err as Error).message}`);
      }
      for (const [spelling, ucum] of Object.entries(spec.units)) {
        try {
          units.set(spelling, affineConversion(ucum, spec.ucum));
        } catch (err) {
          throw new Error(`kind "${name}", unit "${spelling}": ${(err as Error).message}`);
        }
      }
      this.kinds.set(name, { spec, units });
    }
  }

  private static defaultCatalog: SensorCatalog | undefined;

  /** The repository's default catalog, compiled once per process. */
  static default(): SensorCatalog {
    SensorCatalog.defaultCatalog ??= new SensorCatalog(DEFAULT_SENSOR_CATALOG);
    return SensorCatalog.defaultCatalog;
  }

  /** Reads and validates a catalog file (JSON); the error names the file and what is wrong. */
  static async fromFile(path: string): Promise<SensorCatalog> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot read sensor catalog ${path}: ${(err as Error).message}`);
    }
    const file = parseSensorCatalogFile(text, path);
    try {
      return new SensorCatalog(file);
    } catch (err) {
      throw new Error(`sensor catalog ${path}: ${(err as Error).message}`);
    }
  }

  has(kind: string): boolean {
    return this.kinds.has(kind);
  }

  get size(): number {
    return this.kinds.size;
  }

  get kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  spec(kind: string): SensorKind | undefined {
    return this.kinds.get(kind)?.spec;
  }

  /**
   * Converts a value of a known kind to its canonical unit and checks its range. Refusals are
   * `unknown_metric`, `unknown_unit`, `schema_violation` (not finite) or `out_of_range`, with the
   * metric's path. Only the catalog's own entries count: `__proto__` is no kind and no unit.
   */
  canonical(kind: string, value: number, unit: string | undefined): ParseResult<number> {
    const path = `metrics.${kind}`;
    const compiled = this.kinds.get(kind);
    if (!compiled) return fail('unknown_metric', `unknown metric "${kind}"`, path);
    if (!Number.isFinite(value)) return fail('schema_violation', `${kind} is not a finite number`, path);
    const conversion = unit === undefined ? { scale: 1, offset: 0 } : compiled.units.get(unit);
    if (!conversion) return fail('unknown_unit', `unit "${unit}" is not known for ${kind}`, path);
    const converted = value * conversion.scale + conversion.offset;
    const { min, max } = compiled.spec.range;
    if (!(converted >= min && converted <= max)) {
      return fail('out_of_range', `${kind} ${converted} ${compiled.spec.unit} is outside [${min}, ${max}]`, path);
    }
    return ok(converted);
  }
}
