import { isIP } from 'node:net';

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/**
 * edge-local runs without authentication (no identities, no ACLs, no TLS: the demo needs no
 * set-up), which is safe only while nothing outside this machine can connect. Returns the
 * start-up notice and whether it must be a warning (a non-loopback address was configured).
 */
export function openAccessNotice(hosts: { http: string; mqtt: string }): { level: 'info' | 'warn'; message: string } {
  const exposed = Object.entries(hosts).filter(([, h]) => !isLoopback(h));
  if (exposed.length === 0) {
    return {
      level: 'info',
      message:
        `edge-local is open: no authentication on MQTT or HTTP, so it listens on loopback only (HTTP ${hosts.http}, MQTT ${hosts.mqtt}). ` +
        'A site runs the charts (per-floor identities, ACLs, TLS): see docs/security.md',
    };
  }
  return {
    level: 'warn',
    message:
      `edge-local has no authentication and listens on ${exposed.map(([k, h]) => `${k.toUpperCase()} ${h}`).join(', ')}: ` +
      'anyone who can reach this address can publish readings, read every floor and open the dashboard. ' +
      'Keep HTTP_HOST and MQTT_HOST on 127.0.0.1 unless this network is yours alone; see docs/security.md',
  };
}
