import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INFRA, ROOT } from './suite';

/** The machine's conditions, recorded with every benchmark run so figures can be judged honestly. */
export function machineConditions(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    freeMemMiB: Math.round(os.freemem() / 2 ** 20),
    at: new Date().toISOString(),
  };
}

function firstLine(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).split('\n')[0]?.trim();
  } catch (err) {
    // `mosquitto -h` prints its version and exits non-zero.
    const out = (err as { stdout?: string }).stdout ?? '';
    return out.split('\n')[0]?.trim() || undefined;
  }
}

function pkg(name: string): string | undefined {
  const file = path.join(ROOT, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
}

/** Versions of everything a figure depends on. */
export function versions(): Record<string, string | undefined> {
  const libs = path.join(INFRA, 'kafka/libs');
  const kafkaJar = existsSync(libs) ? readdirSync(libs).find((f) => /^kafka_2\.13-.*\.jar$/.test(f)) : undefined;
  const telegraf = path.join(INFRA, 'bin/telegraf');
  return {
    node: process.version,
    mosquitto: firstLine('mosquitto', ['-h'])?.replace(/^mosquitto version /, ''),
    kafka: kafkaJar?.replace(/^kafka_2\.13-|\.jar$/g, ''),
    java: firstLine('java', ['-version']) ?? firstLine('bash', ['-c', 'java -version 2>&1']),
    telegraf: existsSync(telegraf) ? firstLine(telegraf, ['--version']) : undefined,
    mqtt: pkg('mqtt'),
    kafkajs: pkg('kafkajs'),
    'onnxruntime-node': pkg('onnxruntime-node'),
    '@nestjs/core': pkg('@nestjs/core'),
  };
}
