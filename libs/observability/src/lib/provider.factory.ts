import type { InjectionToken, Provider } from '@nestjs/common';

/**
 * A value a module gets from the application's container rather than as an instance: the tokens
 * to inject and the factory that picks or builds it (e.g. edge-local hands the dashboard the state
 * its runtime provider owns).
 */
export interface FactoryOf<T> {
  inject: InjectionToken[];
  useFactory: (...deps: never[]) => T;
}

export function isFactoryOf<T>(value: T | FactoryOf<T>): value is FactoryOf<T> {
  return typeof value === 'object' && value !== null && 'useFactory' in value && 'inject' in value;
}

/** `token` provided by `source`: a value as it is, or a {@link FactoryOf} the container resolves. */
export function provideFrom<T>(token: InjectionToken, source: T | FactoryOf<T>): Provider {
  return isFactoryOf(source) ? { provide: token, inject: source.inject, useFactory: source.useFactory } : { provide: token, useValue: source };
}
