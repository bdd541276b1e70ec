import { isLoopback, openAccessNotice } from './open-access.notice';

describe('edge-local open-access notice', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'edge.example'].map(isLoopback)).toEqual([false, false, false, false, false]);
  });

  it('says it is open and loopback-only by default', () => {
    const n = openAccessNotice({ http: '127.0.0.1', mqtt: '127.0.0.1' });
    expect(n.level).toBe('info');
    expect(n.message).toMatch(/no authentication.*loopback only/);
  });

  it('warns, naming the listener, when an address beyond loopback is configured', () => {
    const n = openAccessNotice({ http: '127.0.0.1', mqtt: '0.0.0.0' });
    expect(n.level).toBe('warn');
    expect(n.message).toContain('MQTT 0.0.0.0');
    expect(n.message).not.toContain('HTTP 127.0.0.1');
  });
});
