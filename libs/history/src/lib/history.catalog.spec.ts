import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { METRIC_KINDS } from '@aiot/contracts';
import { loadHistoryMetricNames } from './history.catalog';
import { HISTORY_METRICS } from './history.request';

const radon = { unit: 'Bq/m3', ucum: 'Bq/m3', units: { 'Bq/m3': 'Bq/m3' }, range: { min: 0, max: 100000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };

describe('loadHistoryMetricNames', () => {
  it('without a catalog file accepts the built-in catalog\'s kinds and the prediction series', async () => {
    expect([...(await loadHistoryMetricNames(undefined))].sort()).toEqual([...HISTORY_METRICS].sort());
  });

  it('adds the kinds of a catalog file and keeps the built-in ones readable', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'history-catalog-')), 'catalog.json');
    writeFileSync(file, JSON.stringify({ version: 1, kinds: { radon } }));
    const names = await loadHistoryMetricNames(file);
    expect(names).toContain('radon');
    for (const k of [...METRIC_KINDS, 'occupied', 'anomaly_score']) expect(names).toContain(k);
  });

  it('fails naming the file when the catalog is invalid or missing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'history-catalog-')), 'catalog.json');
    writeFileSync(file, JSON.stringify({ version: 1, kinds: { Radon: radon } }));
    await expect(loadHistoryMetricNames(file)).rejects.toThrow(file);
    await expect(loadHistoryMetricNames(`${file}.absent`)).rejects.toThrow(/cannot read sensor catalog/);
  });
});
