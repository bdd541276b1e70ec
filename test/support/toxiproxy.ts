import { Toxiproxy, type Proxy, type ToxicDirection, type ToxicType } from 'toxiproxy-node-client';
import { TOXIPROXY_URL } from './brokers';

/** The two proxies test/infra/toxiproxy.sh creates: bridge→Kafka and devices→Mosquitto. */
export interface FaultProxies {
  kafka: Proxy;
  mqtt: Proxy;
  /** Removes every toxic and re-enables every proxy. */
  heal(): Promise<void>;
}

/** Connects to the running toxiproxy and starts from a clean state (no toxics, all enabled). */
export async function faultProxies(): Promise<FaultProxies> {
  const toxiproxy = new Toxiproxy(TOXIPROXY_URL);
  await toxiproxy.reset();
  return { kafka: await toxiproxy.get('kafka'), mqtt: await toxiproxy.get('mqtt'), heal: () => toxiproxy.reset() };
}

/**
 * Adds one toxic in both directions (client→server and server→client) and returns a function
 * that removes both. Attributes per toxiproxy's README: latency/jitter in ms, bandwidth rate in
 * KB/s, timeout/reset_peer timeout in ms (0 = hold data until removed / reset at once).
 */
export async function addToxic(proxy: Proxy, type: ToxicType, attributes: Record<string, number>, name = type): Promise<() => Promise<void>> {
  const streams: ToxicDirection[] = ['upstream', 'downstream'];
  const toxics = await Promise.all(streams.map((stream) => proxy.addToxic({ name: `${name}-${stream}`, type, stream, toxicity: 1, attributes })));
  return async () => {
    await Promise.all(toxics.map((t) => t.remove()));
  };
}
