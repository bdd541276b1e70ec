import { Module, type DynamicModule } from '@nestjs/common';
import { HISTORY_METRIC_NAMES, HISTORY_QUERY, HistoryController } from './history.controller';
import { isFactoryOf, provideFrom, type FactoryOf } from '@aiot/observability';
import type { HistoryQuery } from './history.query';

/** The query side once the store is open; undefined while it opens or when history is off. */
export type HistoryQuerySource = () => HistoryQuery | undefined;

/** The history REST API on a store's query side (or answering 503 when there is none). */
@Module({})
export class HistoryHttpModule {
  /**
   * `source`: the query side, a function giving it once it exists (a store still opening), or a
   * factory of such a function resolved by the container (edge-local: from its runtime provider).
   * `metricNames`: what `metric=` may name, `historyMetricNames` of the deployment's sensor
   * catalog (`loadHistoryMetricNames`); omitted, the built-in kinds and prediction series.
   */
  static forQuery(source: HistoryQuery | HistoryQuerySource | FactoryOf<HistoryQuerySource> | undefined, metricNames?: readonly string[]): DynamicModule {
    const provider = isFactoryOf(source) ? provideFrom(HISTORY_QUERY, source) : { provide: HISTORY_QUERY, useValue: typeof source === 'function' ? source : () => source };
    const providers = metricNames ? [provider, { provide: HISTORY_METRIC_NAMES, useValue: metricNames }] : [provider];
    return { module: HistoryHttpModule, controllers: [HistoryController], providers };
  }
}
