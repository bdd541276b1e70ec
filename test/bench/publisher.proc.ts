/**
 * Load generator (its own process): a building of `floors × rooms × sensors` devices publishing
 * native readings over MQTT with QoS 1, either `count` readings as fast as the broker takes them
 * or `rate` readings/s for `seconds`. Each reading's `ts` is its publish time (ms), so a consumer
 * of the clean topic reads publish → clean latency off the record itself. Bounded: stops after
 * `count` readings or `seconds` (+ 30 s for outstanding acknowledgements). Prints one JSON line.
 *
 *   node publisher.proc.js '{"url":"mqtt://127.0.0.1:11883","site":"bench","floors":["f1"],...}'
 */
import mqtt, { type MqttClient } from 'mqtt';
import { nowMs, procMain } from './proc';

export interface PublisherSpec {
  url: string;
  site: string;
  floors: string[];
  rooms: number;
  sensors: number;
  /** Readings to publish (max rate) … */
  count?: number;
  /** … or readings per second for `seconds`. */
  rate?: number;
  seconds?: number;
  connections?: number;
  /** Unacknowledged publishes per connection. */
  window?: number;
  /** First seq of every device (fresh per run, so de-duplication never drops a new reading). */
  seqBase?: number;
  clientPrefix?: string;
}

export interface PublisherResult {
  published: number;
  acked: number;
  failed: number;
  startMs: number;
  endMs: number;
  lastAckMs: number;
  avgPayloadBytes: number;
}

export const SENSOR_KINDS = ['temperature', 'humidity', 'light', 'co2', 'motion'] as const;

const BASE: Record<(typeof SENSOR_KINDS)[number], number> = { temperature: 21.5, humidity: 35, light: 420, co2: 640, motion: 0 };

export interface Device {
  topic: string;
  id: string;
  kind: (typeof SENSOR_KINDS)[number];
}

export function buildingDevices(site: string, floors: string[], rooms: number, sensors: number): Device[] {
  const out: Device[] = [];
  for (const floor of floors) {
    for (let r = 1; r <= rooms; r++) {
      const room = `r${String(r).padStart(2, '0')}`;
      for (let s = 0; s < sensors; s++) {
        const kind = SENSOR_KINDS[s % SENSOR_KINDS.length]!;
        const id = `${floor}-${room}-${kind}${s >= SENSOR_KINDS.length ? s : ''}`;
        out.push({ topic: `aiot/${site}/${floor}/${room}/${id}/telemetry`, id, kind });
      }
    }
  }
  return out;
}

export function readingPayload(d: Device, seq: number, ts: number): string {
  const wobble = ((seq * 7919) % 100) / 100;
  const value = d.kind === 'motion' ? seq % 2 : Math.round((BASE[d.kind] * (1 + (wobble - 0.5) / 50)) * 100) / 100;
  return `{"deviceId":"${d.id}","ts":${Math.round(ts)},"seq":${seq},"metrics":{"${d.kind}":${value}}}`;
}

async function main(spec: PublisherSpec): Promise<PublisherResult> {
  const devices = buildingDevices(spec.site, spec.floors, spec.rooms, spec.sensors);
  const nConn = spec.connections ?? 1;
  const window = spec.window ?? 500;
  const seqBase = spec.seqBase ?? Math.floor(Date.now() / 1000);
  const total = spec.count ?? Math.round((spec.rate ?? 0) * (spec.seconds ?? 0));
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: nConn }, (_, i) => mqtt.connectAsync(spec.url, { clientId: `${spec.clientPrefix ?? 'bench-pub'}-${process.pid}-${i}`, clean: true, reconnectPeriod: 0 })),
  );
  const outstanding = new Array<number>(nConn).fill(0);
  let published = 0;
  let acked = 0;
  let failed = 0;
  let bytes = 0;
  let lastAckMs = 0;
  const startMs = nowMs();
  const deadline = startMs + ((spec.seconds ?? 120) + 30) * 1000;
  const due = () => (spec.rate ? Math.min(total, Math.floor(((nowMs() - startMs) / 1000) * spec.rate)) : total);
  while (published < total && nowMs() < deadline) {
    const target = due();
    let progressed = false;
    while (published < target) {
      const c = published % nConn;
      if (outstanding[c]! >= window) break;
      const d = devices[published % devices.length]!;
      const seq = seqBase + Math.floor(published / devices.length);
      const payload = readingPayload(d, seq, nowMs());
      bytes += payload.length;
      outstanding[c]!++;
      published++;
      progressed = true;
      clients[c]!.publish(d.topic, payload, { qos: 1 }, (err) => {
        outstanding[c]!--;
        if (err) failed++;
        else acked++;
        lastAckMs = nowMs();
      });
    }
    await new Promise((r) => (progressed && !spec.rate ? setImmediate(r) : setTimeout(r, 1)));
  }
  const endMs = nowMs();
  while (acked + failed < published && nowMs() < deadline) await new Promise((r) => setTimeout(r, 5));
  await Promise.all(clients.map((c) => c.endAsync()));
  return { published, acked, failed, startMs, endMs, lastAckMs, avgPayloadBytes: Math.round(bytes / Math.max(1, published)) };
}

if (require.main === module) {
  procMain<PublisherSpec>(main);
}
