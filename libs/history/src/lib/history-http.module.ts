import { Module, type DynamicModule } from '@nestjs/common';
import { HISTORY_QUERY, HistoryController } from './history.controller';
import type { HistoryQuery } from './history.query';

/** The history REST API on a store's query side (or answering 503 when there is none). */
@Module({})
export class HistoryHttpModule {
  /** `source`: the query side, or a function giving it once it exists (a store still opening). */
  static forQuery(source: HistoryQuery | (() => HistoryQuery | undefined) | undefined): DynamicModule {
    return {
      module: HistoryHttpModule,
      controllers: [HistoryController],
      providers: [{ provide: HISTORY_QUERY, useValue: typeof source === 'function' ? source : () => source }],
    };
  }
}
