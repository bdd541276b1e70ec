import { z } from 'zod';
import { splitList } from './config.loader';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** The fields every service's environment has: the HTTP port (health, metrics, APIs) and the log level. */
export const serviceEnvShape = {
  HTTP_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
};

/**
 * A comma-separated variable (`"a, b,,c"` → `["a","b","c"]`), each entry validated by `item`;
 * unset or empty is the empty list.
 */
export function envList<T extends z.ZodType<unknown, string>>(item: T) {
  return z.string().default('').transform(splitList).pipe(z.array(item));
}
