import { Inject, Injectable, Module, type DynamicModule, type InjectionToken, type OnModuleDestroy, type Provider } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { METRICS, serviceLifecycle, silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { BuildingStateService } from './building-state.service';
import { DashboardController } from './dashboard.controller';
import { SseHub, type SseHubOptions } from './sse.hub';

/** A factory for the state, which the module then owns (started at bootstrap, stopped at shutdown) unless `owner` says otherwise. */
export interface BuildingStateFactory {
  inject: InjectionToken[];
  useFactory: (...deps: never[]) => BuildingStateService;
  /** `module` (default): the module starts and stops the state; `caller`: whoever built it does (edge-local's runtime). */
  owner?: 'module' | 'caller';
}

export interface DashboardModuleOptions {
  /** An instance started and stopped by its owner, or a factory (owned by the module unless `owner: 'caller'`). */
  state: BuildingStateService | BuildingStateFactory;
  /** Directory of the built page (`vite build` output), served at `/`; omit to serve the API only. */
  webRoot?: string;
  sse?: Partial<SseHubOptions>;
  logger?: Logger;
}

/** Where `vite build` puts the page: `dist/apps/dashboard/web`, found from this file in src or dist. */
export function defaultWebRoot(): string {
  const candidates = [
    path.resolve(__dirname, '../../../../dist/apps/dashboard/web'), // libs/dashboard/src/lib (jest, ts)
    path.resolve(__dirname, '../../../../apps/dashboard/web'), // dist/libs/dashboard/src/lib (built)
    path.resolve(process.cwd(), 'dist/apps/dashboard/web'),
  ];
  return candidates.find((c) => existsSync(path.join(c, 'index.html'))) ?? candidates[2]!;
}

@Injectable()
class DashboardLifecycle implements OnModuleDestroy {
  constructor(@Inject(SseHub) private readonly hub: SseHub) {}

  /** Ends the event streams first: the HTTP server waits for open connections when it closes. */
  onModuleDestroy(): void {
    this.hub.close();
  }
}

/**
 * The dashboard's HTTP side: `/api/building`, `/api/rooms/:floor/:room`, `/api/alerts`,
 * `POST /api/alerts/:id/ack`, `/api/models`, `/api/services`, `/api/events` (SSE) and the built page at `/`.
 */
@Module({})
export class DashboardModule {
  static forRoot(options: DashboardModuleOptions): DynamicModule {
    const imports: DynamicModule[] = [];
    if (options.webRoot) {
      const log = options.logger ?? silentLogger;
      if (!existsSync(path.join(options.webRoot, 'index.html'))) {
        log.warn({ webRoot: options.webRoot }, 'dashboard page not built (run the vite build); serving the API only');
      }
      imports.push(
        ServeStaticModule.forRoot({
          rootPath: options.webRoot,
          renderPath: '/',
          exclude: ['/api/{*path}', '/health/{*path}', '/metrics'],
          serveStaticOptions: {
            index: 'index.html',
            fallthrough: true,
            setHeaders: (res: ServerResponse, file: string) => {
              // Vite fingerprints everything under assets/; the page itself must be revalidated.
              res.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
            },
          },
        }),
      );
    }
    const state = options.state;
    const stateProviders: Provider[] =
      state instanceof BuildingStateService
        ? [{ provide: BuildingStateService, useValue: state }]
        : [
            { provide: BuildingStateService, inject: state.inject, useFactory: state.useFactory },
            ...(state.owner === 'caller' ? [] : [serviceLifecycle('dashboard state', BuildingStateService, options.logger ?? silentLogger)]),
          ];
    return {
      module: DashboardModule,
      imports,
      controllers: [DashboardController],
      providers: [
        ...stateProviders,
        {
          provide: SseHub,
          useFactory: (s: BuildingStateService, metrics?: AiotMetrics) => new SseHub(s, options.sse, metrics, options.logger),
          inject: [BuildingStateService, { token: METRICS, optional: true }],
        },
        DashboardLifecycle,
      ],
    };
  }
}
