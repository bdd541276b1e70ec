// Where things are in the repository and how one site is rendered/installed with helm.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Runner } from './helm';
import { helm } from './helm';
import type { Values } from './site-values';
import { floorValuesFromPlatform, mergeValueFiles } from './site-values';
import { splitList } from '@aiot/observability';

export const STORAGE_PROFILES = ['portworx', 'local-path'] as const;
export const NETWORK_PROFILES = ['calico', 'kubernetes'] as const;
export type StorageProfile = (typeof STORAGE_PROFILES)[number];
export type NetworkProfile = (typeof NETWORK_PROFILES)[number];

export const PLATFORM_RELEASE = 'aiot-platform';
export const PLATFORM_NAMESPACE = 'aiot-system';
export const DEFAULT_KUBE_VERSION = '1.33.0';
const FLOOR_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface Layout {
  root: string;
  platformChart: string;
  floorChart: string;
  profiles: string;
  intendedMatrix: string;
  schemas: string;
}

/** The repository layout, found from `start` upwards (the folder holding deploy/helm/aiot-platform). */
export function findLayout(start: string, explicitRoot?: string): Layout {
  let dir = path.resolve(explicitRoot ?? start);
  for (;;) {
    if (existsSync(path.join(dir, 'deploy', 'helm', 'aiot-platform', 'Chart.yaml'))) break;
    const up = path.dirname(dir);
    if (up === dir || explicitRoot) {
      throw new Error(`cannot find deploy/helm/aiot-platform from ${explicitRoot ?? start}: run edgectl inside the repository or pass --repo <path>`);
    }
    dir = up;
  }
  const d = path.join(dir, 'deploy');
  return {
    root: dir,
    platformChart: path.join(d, 'helm', 'aiot-platform'),
    floorChart: path.join(d, 'helm', 'aiot-floor'),
    profiles: path.join(d, 'profiles'),
    intendedMatrix: path.join(d, 'policy', 'intended-matrix.yaml'),
    schemas: path.join(d, 'schemas'),
  };
}

/** `3` -> floor-1..floor-3; `floor-1,floor-7` -> those. Rejects what is not a DNS label. */
export function parseFloors(spec: string | number): string[] {
  const text = String(spec).trim();
  const floors = /^\d+$/.test(text) ? Array.from({ length: Number(text) }, (_, i) => `floor-${i + 1}`) : splitList(text);
  if (floors.length === 0) throw new Error('no floors given: use a count (3) or a comma list (floor-1,floor-2)');
  for (const f of floors) {
    if (!FLOOR_RE.test(f) || f.length > 63) throw new Error(`floor ${JSON.stringify(f)} is not a DNS label (lower-case letters, digits, '-'), e.g. floor-3`);
  }
  if (new Set(floors).size !== floors.length) throw new Error(`floor list has duplicates: ${floors.join(',')}`);
  return floors;
}

export function checkProfile<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`unknown ${what} profile ${JSON.stringify(value)}: use one of ${allowed.join(', ')}`);
  return value as T;
}

export interface SiteOptions {
  storage: StorageProfile;
  network: NetworkProfile;
  floors: string[];
  /** Extra values files for the platform / every floor release. */
  platformValues?: string[];
  floorValues?: string[];
  /** --set key=value for the platform release. */
  set?: string[];
  /** Registry prefix of every image (images.registry), e.g. "registry.local:5000/". */
  registry?: string;
}

/** "host:5000" -> "host:5000/" (images.registry is a prefix). */
export function registryPrefix(registry: string): string {
  const r = registry.trim();
  if (!/^[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._/-]*)?$/.test(r)) throw new Error(`--registry ${JSON.stringify(registry)} is not a registry host[:port][/path]`);
  return r.endsWith('/') ? r : `${r}/`;
}

/** helm arguments (after `template`/`upgrade --install`) of the platform release. */
export function platformArgs(layout: Layout, site: SiteOptions): string[] {
  return [
    PLATFORM_RELEASE,
    layout.platformChart,
    '--namespace',
    PLATFORM_NAMESPACE,
    '-f',
    path.join(layout.profiles, `storage-${site.storage}.yaml`),
    '-f',
    path.join(layout.profiles, `network-${site.network}.yaml`),
    ...(site.platformValues ?? []).flatMap((f) => ['-f', f]),
    '--set-json',
    `floors=${JSON.stringify(site.floors)}`,
    ...(site.registry ? ['--set', `images.registry=${registryPrefix(site.registry)}`] : []),
    ...(site.set ?? []).flatMap((s) => ['--set', s]),
  ];
}

/**
 * The platform values a site's files give (chart defaults, profiles, -f files, --registry), as
 * helm computes them without a cluster: what the floors inherit when rendering offline.
 */
export function offlinePlatformValues(layout: Layout, site: SiteOptions): Values {
  const v = mergeValueFiles([
    path.join(layout.platformChart, 'values.yaml'),
    path.join(layout.profiles, `storage-${site.storage}.yaml`),
    path.join(layout.profiles, `network-${site.network}.yaml`),
    ...(site.platformValues ?? []),
  ]);
  if (site.registry) v['images'] = { ...(v['images'] as Values), registry: registryPrefix(site.registry) };
  return v;
}

/** Writes the floor values inherited from the platform values to a temp file (helm -f). */
export function writeSharedFloorValues(platformValues: Values): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'edgectl-')), 'from-platform.json');
  writeFileSync(file, JSON.stringify(floorValuesFromPlatform(platformValues), null, 2));
  return file;
}

/**
 * helm arguments of one floor release (the release lives in aiot-system, its objects in the floor
 * namespace). `shared`: the values file inherited from the platform (site id, images, network),
 * applied before the floor's own values files.
 */
export function floorArgs(layout: Layout, site: SiteOptions, floor: string, shared?: string): string[] {
  return [
    floor,
    layout.floorChart,
    '--namespace',
    PLATFORM_NAMESPACE,
    '-f',
    path.join(layout.profiles, `network-${site.network}.yaml`),
    ...(shared ? ['-f', shared] : []),
    ...(site.floorValues ?? []).flatMap((f) => ['-f', f]),
    '--set',
    `floor=${floor}`,
  ];
}

export interface Rendered {
  release: string;
  yaml: string;
}

/** `helm template` of the platform and every floor. */
export async function renderSite(run: Runner, helmBin: string, layout: Layout, site: SiteOptions, kubeVersion = DEFAULT_KUBE_VERSION, extraArgs: string[] = []): Promise<Rendered[]> {
  const common = ['--kube-version', kubeVersion, ...extraArgs];
  const out: Rendered[] = [];
  out.push({ release: PLATFORM_RELEASE, yaml: (await helm(run, helmBin, ['template', ...platformArgs(layout, site), ...common])).stdout });
  const shared = writeSharedFloorValues(offlinePlatformValues(layout, site));
  try {
    for (const f of site.floors) {
      out.push({ release: f, yaml: (await helm(run, helmBin, ['template', ...floorArgs(layout, site, f, shared), ...common])).stdout });
    }
  } finally {
    rmSync(path.dirname(shared), { recursive: true, force: true });
  }
  return out;
}
