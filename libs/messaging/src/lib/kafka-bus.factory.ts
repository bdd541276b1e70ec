import type { z } from 'zod';
import type { AiotMetrics, Logger, ProbeRegistry } from '@aiot/observability';
import { KafkaEventBus } from './kafka-event-bus.adapter';
import { messagingMetrics } from './messaging.metrics';
import type { kafkaEnvSchema } from './messaging.env';
import { describeSecurity, kafkaSecurityFromEnv } from './transport-security';

export type KafkaEnv = z.output<typeof kafkaEnvSchema>;

/**
 * The Kafka event bus every service builds from its validated environment, wired the same way
 * everywhere: consumer lag into `aiot_kafka_consumer_lag`, and a `kafka` readiness probe, so
 * `/health/ready` goes false while Kafka is unreachable.
 */
export function kafkaBusFromEnv(
  env: KafkaEnv,
  clientId: string,
  deps: { logger: Logger; metrics: AiotMetrics; probes?: ProbeRegistry },
): KafkaEventBus {
  const { metrics } = deps;
  const { kafkaConsumerLag } = metrics.of(messagingMetrics);
  const security = kafkaSecurityFromEnv(env);
  deps.logger.info({ brokers: env.KAFKA_BROKERS, ...describeSecurity(security) }, 'kafka client');
  const bus = new KafkaEventBus({
    security,
    brokers: env.KAFKA_BROKERS,
    clientId,
    compression: env.KAFKA_COMPRESSION,
    numPartitions: env.KAFKA_PARTITIONS,
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    logger: deps.logger,
    onLag: (topic, partition, lag, group) => kafkaConsumerLag.set({ group, topic, partition: String(partition) }, lag),
  });
  deps.probes?.addReadiness('kafka', () => {
    const up = bus.isHealthy();
    metrics.brokerConnected.set({ broker: 'kafka' }, up ? 1 : 0);
    return { up };
  });
  return bus;
}
