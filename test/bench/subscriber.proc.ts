/**
 * The broker ceiling (its own process): an mqtt.js client subscribed with QoS 1 that only counts,
 * acknowledging each message itself (mqtt.js' automatic PUBACK). Prints "ready" once subscribed,
 * then one JSON line when `count` messages arrived or after `timeoutMs`.
 *
 *   node subscriber.proc.js '{"url":"mqtt://127.0.0.1:11883","filter":"aiot/bench/#","count":20000}'
 */
import mqtt from 'mqtt';
import { nowMs, procMain } from './proc';

interface Spec {
  url: string;
  filter: string;
  count: number;
  timeoutMs?: number;
  protocolVersion?: 4 | 5;
}

async function main(spec: Spec): Promise<{ received: number; firstMs: number; lastMs: number; cpuSeconds: number; peakRssMB: number }> {
  const client = await mqtt.connectAsync(spec.url, { clientId: `bench-sub-${process.pid}`, clean: true, protocolVersion: spec.protocolVersion ?? 5, reconnectPeriod: 0 });
  let received = 0;
  let firstMs = 0;
  let lastMs = 0;
  const done = new Promise<void>((resolve) => {
    client.on('message', () => {
      if (received === 0) firstMs = nowMs();
      received++;
      lastMs = nowMs();
      if (received >= spec.count) resolve();
    });
    setTimeout(resolve, spec.timeoutMs ?? 120_000).unref();
  });
  await client.subscribeAsync(spec.filter, { qos: 1 });
  process.stdout.write('ready\n');
  const cpu0 = process.cpuUsage();
  await done;
  const cpu = process.cpuUsage(cpu0);
  await client.endAsync();
  // maxRSS is in kB on Linux: the process' peak resident set, like VmHWM.
  return { received, firstMs, lastMs, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
}

procMain<Spec>(main);
