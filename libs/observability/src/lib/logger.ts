import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerConfig {
  level?: string;
  /** Human-readable output (edge-local on a terminal); JSON otherwise, which log shippers expect. */
  pretty?: boolean;
  name?: string;
  base?: Record<string, string>;
}

/** Structured JSON logs (pino); `pretty` only for a person at a terminal. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { service: config.name, ...config.base },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (config.pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(options);
}

/** A logger that drops everything: for unit tests and libraries used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
