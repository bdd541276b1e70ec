import { Module, type DynamicModule } from '@nestjs/common';
import { HISTORY_QUERY, HistoryController } from './history.controller';
import type { HistoryQuery } from './history.query';

/** The history REST API on a store's query side (or answering 503 when there is none). */
@Module({})
export class HistoryHttpModule {
  static forQuery(query: HistoryQuery | undefined): DynamicModule {
    return {
      module: HistoryHttpModule,
      controllers: [HistoryController],
      providers: [{ provide: HISTORY_QUERY, useValue: query ?? null }],
    };
  }
}
