// Values a floor release must share with the platform release. A site sets them once (platform
// values files, --registry); edgectl hands them to every floor release, so a floor never runs
// with another site id, image registry or network profile than its platform.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of values files: maps merge key by key, anything else (lists too) replaces, null deletes. */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

/** The values helm would compute from these files, in order (no --set). */
export function mergeValueFiles(files: string[]): Values {
  return files.reduce<Values>((acc, f) => {
    const doc = parse(readFileSync(f, 'utf8')) as unknown;
    if (doc != null && !isMap(doc)) throw new Error(`${f}: a values file must be a YAML map`);
    return mergeValues(acc, (doc as Values | null) ?? {});
  }, {});
}

const pick = (src: unknown, keys: string[]): Values | undefined => {
  if (!isMap(src)) return undefined;
  const out = Object.fromEntries(keys.filter((k) => src[k] !== undefined).map((k) => [k, src[k]]));
  return Object.keys(out).length ? out : undefined;
};

/** The floor chart's values taken from the platform release's (computed) values. */
export function floorValuesFromPlatform(platform: Values): Values {
  const np = platform['networkPolicy'];
  const out: Values = {};
  for (const k of ['siteId', 'logLevel']) if (platform[k] !== undefined) out[k] = platform[k];
  const images = pick(platform['images'], ['registry', 'repositoryPrefix', 'tag', 'pullPolicy', 'pullSecrets']);
  if (images) out['images'] = images;
  const network = pick(np, ['provider', 'podCIDR', 'dns', 'monitoringNamespace']);
  const tier = isMap(np) ? pick(np['calico'], ['tierName']) : undefined;
  if (network || tier) out['networkPolicy'] = { ...(network ?? {}), ...(tier ? { calico: tier } : {}) };
  return out;
}
