import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BuildingDelta, BuildingSnapshot } from './dashboard.api';
import { SseHub, type SseSource } from './sse.hub';

/** A response double: records writes and lets the test set how much is still buffered. */
class FakeResponse extends EventEmitter {
  status = 0;
  chunks: string[] = [];
  writableLength = 0;
  ended = false;
  destroyed = false;
  writeHead(status: number) {
    this.status = status;
    return this;
  }
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end(chunk?: string) {
    if (chunk) this.chunks.push(chunk);
    this.ended = true;
    this.emit('close');
    return this;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  events(): string[] {
    return this.chunks.flatMap((c) => [...c.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]!));
  }
}
const fakeReq = () => Object.assign(new EventEmitter(), { socket: { setNoDelay: () => undefined, setKeepAlive: () => undefined } }) as unknown as IncomingMessage;

class Source implements SseSource {
  listeners = new Set<(d: BuildingDelta) => void>();
  version = 0;
  snapshot(): BuildingSnapshot {
    return { version: this.version, generatedAt: 0, floors: [], alerts: [], models: [], services: [], stats: { floors: 0, rooms: 0, readings: 0, predictions: 0, alerts: 0, rejected: 0 }, kinds: {} };
  }
  onDelta(l: (d: BuildingDelta) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(seq: number) {
    this.version = seq;
    for (const l of this.listeners) l({ seq, generatedAt: 0, rooms: [], alerts: [], removedAlerts: [], stats: this.snapshot().stats });
  }
}

describe('SseHub', () => {
  let hub: SseHub;
  afterEach(() => hub?.close());

  it('sends retry + snapshot on connect, then every delta once, and forgets a client that disconnects', () => {
    const source = new Source();
    hub = new SseHub(source, { heartbeatMs: 60_000 });
    const req = fakeReq();
    const res = new FakeResponse();
    expect(hub.attach(req, res as unknown as ServerResponse)).toBe(true);
    expect(res.status).toBe(200);
    expect(res.chunks[0]).toBe('retry: 2000\n\n');
    source.emit(1);
    source.emit(2);
    expect(res.events()).toEqual(['snapshot', 'delta', 'delta']);
    expect(res.chunks.at(-1)).toMatch(/^event: delta\nid: 2\ndata: \{.*\}\n\n$/s);
    expect(hub.size).toBe(1);
    req.emit('close');
    expect(hub.size).toBe(0);
    source.emit(3);
    expect(res.events()).toHaveLength(3);
  });

  it('refuses clients beyond maxClients with 503', () => {
    hub = new SseHub(new Source(), { maxClients: 1 });
    hub.attach(fakeReq(), new FakeResponse() as unknown as ServerResponse);
    const second = new FakeResponse();
    expect(hub.attach(fakeReq(), second as unknown as ServerResponse)).toBe(false);
    expect(second.status).toBe(503);
    expect(second.ended).toBe(true);
  });

  it('bounds a slow client: skips deltas while its buffer is full, resyncs with a snapshot when it drains, drops it if it never does', () => {
    const source = new Source();
    hub = new SseHub(source, { maxBufferedBytes: 100, slowClientTimeoutMs: 0 });
    const slow = new FakeResponse();
    const fast = new FakeResponse();
    hub.attach(fakeReq(), slow as unknown as ServerResponse);
    hub.attach(fakeReq(), fast as unknown as ServerResponse);
    slow.writableLength = 1000;
    source.emit(1); // slow: over the bound → skipped, marked behind
    expect(slow.events()).toEqual(['snapshot']);
    slow.writableLength = 0;
    slow.emit('drain'); // caught up → fresh snapshot instead of the missed deltas
    expect(slow.events()).toEqual(['snapshot', 'snapshot']);
    source.emit(2);
    expect(slow.events()).toEqual(['snapshot', 'snapshot', 'delta']);
    slow.writableLength = 1000;
    source.emit(3); // behind again
    source.emit(4); // still behind after slowClientTimeoutMs (0) → disconnected
    expect(slow.destroyed).toBe(true);
    expect(hub.size).toBe(1);
    expect(fast.events()).toEqual(['snapshot', 'delta', 'delta', 'delta', 'delta']);
  });

  it('sends heartbeats and ends every stream on close', async () => {
    hub = new SseHub(new Source(), { heartbeatMs: 10 });
    const res = new FakeResponse();
    hub.attach(fakeReq(), res as unknown as ServerResponse);
    const heartbeats = () => res.chunks.filter((c) => c.startsWith(': heartbeat')).length;
    // Timers fire late on a loaded machine: wait (bounded) for two heartbeats rather than a fixed time.
    for (let waited = 0; heartbeats() < 2 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(heartbeats()).toBeGreaterThanOrEqual(2);
    hub.close();
    expect(res.ended).toBe(true);
    expect(hub.size).toBe(0);
  });
});
