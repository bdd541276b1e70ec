import type { BeforeApplicationShutdown, InjectionToken, OnApplicationBootstrap, Provider } from '@nestjs/common';
import type { Logger } from 'pino';

/** A service with a start (create topics, restore state, open links) and a drain. */
export interface StartStop {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The one runner every service uses: starts the service provided under `token` once the
 * application bootstrapped, and stops it (drain) before the application shuts down, that is
 * before Nest drains the HTTP server and the microservice transports and before the event bus
 * closes (`onApplicationShutdown`).
 */
export function serviceLifecycle(name: string, token: InjectionToken, logger: Logger): Provider {
  return {
    provide: Symbol.for(`aiot.lifecycle.${name}`),
    inject: [token],
    useFactory: (service: StartStop): OnApplicationBootstrap & BeforeApplicationShutdown => ({
      onApplicationBootstrap: () => service.start(),
      beforeApplicationShutdown: async (signal?: string) => {
        logger.info({ signal }, `draining ${name}`);
        await service.stop();
        logger.info(`${name} drained`);
      },
    }),
  };
}
