import defaultCatalogJson from './sensor-catalog.default.json';
import { sensorCatalogFileSchema, type SensorCatalogFile } from './sensor-catalog.schema';

/**
 * The catalog every service uses unless the site supplies its own file: what buildings measure,
 * in SenML units. Validated like a site's file, so a bad edit to it fails every test at once.
 */
export const DEFAULT_SENSOR_CATALOG: SensorCatalogFile = sensorCatalogFileSchema.parse(defaultCatalogJson);
