import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';

/** SASL mechanisms the stack speaks to Kafka (SCRAM-SHA-512 on every secured listener). */
export const KAFKA_SASL_MECHANISMS = ['scram-sha-512', 'scram-sha-256', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/**
 * How a client authenticates and encrypts. Passwords are held here only: nothing in this module
 * or its callers logs them (see {@link describeSecurity} for what may be logged).
 */
export interface KafkaSecurityOptions {
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
  /** TLS to the brokers; `ca` replaces the system trust store (PEM). */
  tls?: TlsClientOptions;
}

export interface TlsClientOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string;
  /** Server name to verify when it differs from the host connected to. */
  servername?: string;
}

/** What the environment says about Kafka security (paths, never secrets). */
export interface KafkaSecurityEnv {
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD_FILE?: string | undefined;
  KAFKA_TLS?: boolean | undefined;
  KAFKA_TLS_CA_FILE?: string | undefined;
  KAFKA_TLS_SERVERNAME?: string | undefined;
}

/** Reads a mounted secret (e.g. a Kubernetes Secret volume): trimmed, must not be empty. */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const value = text.trim();
  if (!value) throw new Error(`${what}: ${file} is empty`);
  return value;
}

/**
 * Builds the Kafka client's security from validated environment variables, reading the password
 * and CA files now, so a missing or empty file fails start-up with the variable's name.
 */
export function kafkaSecurityFromEnv(env: KafkaSecurityEnv): KafkaSecurityOptions {
  const out: KafkaSecurityOptions = {};
  if (env.KAFKA_SASL_MECHANISM) {
    if (!env.KAFKA_SASL_USERNAME) throw new Error('KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM');
    if (!env.KAFKA_SASL_PASSWORD_FILE) throw new Error('KAFKA_SASL_PASSWORD_FILE is required with KAFKA_SASL_MECHANISM');
    out.sasl = {
      mechanism: env.KAFKA_SASL_MECHANISM,
      username: env.KAFKA_SASL_USERNAME,
      password: readSecretFile(env.KAFKA_SASL_PASSWORD_FILE, 'KAFKA_SASL_PASSWORD_FILE'),
    };
  } else if (env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD_FILE) {
    throw new Error('KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD_FILE need KAFKA_SASL_MECHANISM (e.g. scram-sha-512)');
  }
  if (env.KAFKA_TLS || env.KAFKA_TLS_CA_FILE) {
    out.tls = {
      ...(env.KAFKA_TLS_CA_FILE ? { ca: readSecretFile(env.KAFKA_TLS_CA_FILE, 'KAFKA_TLS_CA_FILE') } : {}),
      ...(env.KAFKA_TLS_SERVERNAME ? { servername: env.KAFKA_TLS_SERVERNAME } : {}),
    };
  }
  return out;
}

/** kafkajs `ssl` and `sasl` client options. */
export function kafkajsSecurity(security: KafkaSecurityOptions | undefined): { ssl?: ConnectionOptions | boolean; sasl?: SASLOptions } {
  if (!security) return {};
  const out: { ssl?: ConnectionOptions | boolean; sasl?: SASLOptions } = {};
  if (security.tls) out.ssl = tlsConnectionOptions(security.tls);
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = { mechanism, username, password } as SASLOptions;
  }
  return out;
}

/** Node TLS options: certificate verification always on (rejectUnauthorized is never turned off). */
export function tlsConnectionOptions(tls: TlsClientOptions): { rejectUnauthorized: true; ca?: string; servername?: string } {
  return {
    rejectUnauthorized: true,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}

/** A loggable description: mechanism, user and whether TLS is on; never the password. */
export function describeSecurity(security: KafkaSecurityOptions | undefined): { sasl: string; user?: string; tls: boolean } {
  return {
    sasl: security?.sasl?.mechanism ?? 'none',
    ...(security?.sasl ? { user: security.sasl.username } : {}),
    tls: Boolean(security?.tls),
  };
}
