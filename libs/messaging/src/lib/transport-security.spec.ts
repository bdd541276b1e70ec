import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeSecurity, kafkajsSecurity, kafkaSecurityFromEnv } from './transport-security';
import { kafkaEnvSchema, mqttEnvSchema, mqttSecurityFromEnv } from './messaging.env';

const dir = mkdtempSync(path.join(tmpdir(), 'sec-'));
writeFileSync(path.join(dir, 'pw'), 's3cret-password-value\n');
writeFileSync(path.join(dir, 'empty'), '\n');
writeFileSync(path.join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
const base = { KAFKA_BROKERS: 'k:9092' };

describe('Kafka security from the environment', () => {
  it('reads the password and CA files: SCRAM over TLS, certificates verified', () => {
    const env = kafkaEnvSchema.parse({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'floor-1', KAFKA_SASL_PASSWORD_FILE: path.join(dir, 'pw'), KAFKA_TLS_CA_FILE: path.join(dir, 'ca.crt') });
    const sec = kafkaSecurityFromEnv(env);
    expect(sec.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'floor-1', password: 's3cret-password-value' });
    expect(kafkajsSecurity(sec).ssl).toEqual({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(JSON.stringify(describeSecurity(sec))).not.toContain('s3cret');
    expect(describeSecurity(sec)).toEqual({ sasl: 'scram-sha-512', user: 'floor-1', tls: true });
  });

  it('is plain without settings, and refuses half a configuration by variable name', () => {
    expect(kafkaSecurityFromEnv(kafkaEnvSchema.parse(base))).toEqual({});
    expect(() => kafkaSecurityFromEnv(kafkaEnvSchema.parse({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' }))).toThrow(/KAFKA_SASL_PASSWORD_FILE is required/);
    expect(() => kafkaSecurityFromEnv(kafkaEnvSchema.parse({ ...base, KAFKA_SASL_USERNAME: 'u' }))).toThrow(/need KAFKA_SASL_MECHANISM/);
    expect(() => kafkaSecurityFromEnv(kafkaEnvSchema.parse({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: path.join(dir, 'empty') }))).toThrow(/KAFKA_SASL_PASSWORD_FILE: .* is empty/);
    expect(() => kafkaSecurityFromEnv(kafkaEnvSchema.parse({ ...base, KAFKA_TLS_CA_FILE: path.join(dir, 'nope') }))).toThrow(/KAFKA_TLS_CA_FILE: cannot read .*ENOENT/);
    expect(kafkaEnvSchema.safeParse({ ...base, KAFKA_SASL_MECHANISM: 'gssapi' }).success).toBe(false);
  });
});

describe('MQTT credentials from the environment', () => {
  it('takes the password from a file and the CA for mqtts only', () => {
    const env = mqttEnvSchema.parse({ MQTT_URL: 'mqtts://b:8883', MQTT_USERNAME: 'aiot.bridge', MQTT_PASSWORD_FILE: path.join(dir, 'pw'), MQTT_TLS_CA_FILE: path.join(dir, 'ca.crt') });
    expect(mqttSecurityFromEnv(env)).toEqual({ username: 'aiot.bridge', password: 's3cret-password-value', tls: { ca: expect.stringContaining('BEGIN CERTIFICATE') } });
    expect(() => mqttSecurityFromEnv(mqttEnvSchema.parse({ MQTT_URL: 'mqtt://b:1883', MQTT_TLS_CA_FILE: path.join(dir, 'ca.crt') }))).toThrow(/needs an mqtts:\/\//);
    expect(() => mqttSecurityFromEnv(mqttEnvSchema.parse({ MQTT_URL: 'mqtt://b:1883', MQTT_PASSWORD: 'x', MQTT_PASSWORD_FILE: path.join(dir, 'pw') }))).toThrow(/not both/);
  });
});
