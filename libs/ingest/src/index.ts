export * from './lib/device-registry';
export * from './lib/deduplicator';
export * from './lib/dedup.restore';
export * from './lib/reading.normalizer';
export * from './lib/ingest.service';
export * from './lib/ingest.env';
export * from './lib/ingest.module';
export * from './lib/ingest.controller';
