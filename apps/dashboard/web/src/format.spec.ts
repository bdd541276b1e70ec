import type { KindView } from '@aiot/dashboard-api';
import { extraMetrics, fmtMetric, metricView, roomMetrics } from './format';

const kinds: Record<string, KindView> = {
  temperature: { label: 'Temperature', symbol: '°C', decimals: 1 },
  pm2_5: { label: 'PM2.5', symbol: 'µg/m³', decimals: 0 },
  radon: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 },
  battery: { label: 'Battery', symbol: '%', decimals: 0 },
};

describe('metric display from the sensor catalog', () => {
  it('formats any kind with the catalog unit and decimals; an unknown kind by its name', () => {
    expect(fmtMetric('radon', 412.4, kinds)).toBe('412 Bq/m³');
    expect(fmtMetric('temperature', 21.46, kinds)).toBe('21.5 °C');
    expect(fmtMetric('motion', 1, kinds)).toBe('motion');
    expect(fmtMetric('vendor_x', 3.14159, kinds)).toBe('3.14');
    expect(metricView('vendor_x', kinds)).toEqual({ key: 'vendor_x', label: 'vendor_x', unit: '', digits: 2 });
    expect(metricView('__proto__', kinds).label).toBe('__proto__');
  });

  it('lists the tile five first, then the room\'s other kinds by label', () => {
    const keys = roomMetrics(['radon', 'co2', 'pm2_5', 'battery'], kinds).map((m) => m.key);
    expect(keys).toEqual(['temperature', 'humidity', 'co2', 'light', 'motion', 'battery', 'pm2_5', 'radon']);
    expect(extraMetrics({ co2: 600, radon: 120 }, kinds).map((m) => `${m.key} ${m.unit}`)).toEqual(['radon Bq/m³']);
  });
});
