import { SensorCatalog } from '@aiot/contracts';
import { historyMetricNames } from './history.request';

/**
 * The metrics a history API accepts in a deployment: {@link historyMetricNames} of the sensor
 * catalog at `catalogFile` (`SENSOR_CATALOG_FILE`, read and validated as sensor-ingest reads it, so a
 * bad file fails start-up naming the file), or of the built-in catalog when there is none.
 */
export async function loadHistoryMetricNames(catalogFile: string | undefined): Promise<readonly string[]> {
  const catalog = catalogFile ? await SensorCatalog.fromFile(catalogFile) : SensorCatalog.default();
  return historyMetricNames(catalog.kindNames);
}
