// `edgectl policy check`: evaluate rendered manifests against the intended matrix.
import type { Difference, Matrix, MatrixEntry } from './policy/matrix';
import { compareWithIntended, computeMatrix, crossFloorPaths, entryKey, formatDifferences, formatMatrix, parseIntendedMatrix } from './policy/matrix';
import { parseManifests } from './policy/model';
import { checkBrokerAccess, formatBrokerAccess, type BrokerAccessReport } from './policy/broker-access';

export interface PolicyReport {
  matrix: Matrix;
  differences: Difference[];
  crossFloor: MatrixEntry[];
  /** The application layer: broker permissions between floors (undefined without the platform chart). */
  brokers?: BrokerAccessReport;
  ok: boolean;
}

export function checkPolicies(manifests: string[], intendedText: string, opts: { defaultNamespace?: string; podCIDR?: string } = {}): PolicyReport {
  const intended = parseIntendedMatrix(intendedText);
  const objects = parseManifests(...manifests);
  const matrix = computeMatrix(objects, { ...opts, namespaces: intended.namespaces, synthetic: intended.synthetic });
  const differences = compareWithIntended(matrix, intended);
  const crossFloor = crossFloorPaths(matrix);
  const hasPlatform = objects.some((o) => o.kind === 'ConfigMap' && typeof (o['data'] as Record<string, unknown> | undefined)?.['access.json'] === 'string');
  const brokers = hasPlatform ? checkBrokerAccess(objects) : undefined;
  const brokersOk = !brokers || (brokers.problems.length === 0 && brokers.crossFloor.length === 0 && brokers.ownFloorRefused.length === 0);
  return { matrix, differences, crossFloor, ...(brokers ? { brokers } : {}), ok: differences.length === 0 && crossFloor.length === 0 && brokersOk };
}

export function formatPolicyReport(label: string, r: PolicyReport, withMatrix: boolean): string {
  const lines = [`== policy check: ${label}`];
  if (withMatrix) lines.push(formatMatrix(r.matrix), '');
  const allowed = r.matrix.entries.filter((e) => e.allowed).length;
  lines.push(`${r.matrix.endpoints.length} endpoints, ${r.matrix.entries.length} (source, destination port) pairs, ${allowed} allowed`);
  lines.push(
    r.crossFloor.length === 0
      ? 'floor isolation: no path between two floors'
      : `floor isolation BROKEN: ${r.crossFloor.length} path(s) between floors:\n${r.crossFloor.map((e) => `  ${entryKey(e)}`).join('\n')}`,
  );
  if (r.brokers) lines.push(formatBrokerAccess(r.brokers));
  lines.push(formatDifferences(r.differences));
  return lines.join('\n');
}
