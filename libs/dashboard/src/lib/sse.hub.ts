import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AiotMetrics, Logger } from '@aiot/observability';
import { silentLogger } from '@aiot/observability';
import type { BuildingDelta, BuildingSnapshot } from './dashboard.api';
import { dashboardMetrics, type DashboardMetrics } from './dashboard.metrics';

export interface SseHubOptions {
  /** Connected browsers at most; more get 503. */
  maxClients: number;
  /** Comment line sent this often so proxies and the browser keep the connection. */
  heartbeatMs: number;
  /**
   * Bytes a client may have waiting in its socket buffer. Past that, deltas are skipped for it
   * and, once its buffer drained, it gets a fresh snapshot instead (so memory per client is bounded
   * and a slow client never sees a broken sequence).
   */
  maxBufferedBytes: number;
  /** A client that stays over the limit this long is disconnected (EventSource reconnects by itself). */
  slowClientTimeoutMs: number;
  /** Reconnect delay the browser is told to use. */
  retryMs: number;
}

export const SSE_HUB_DEFAULTS: SseHubOptions = {
  maxClients: 200,
  heartbeatMs: 15_000,
  maxBufferedBytes: 1_048_576,
  slowClientTimeoutMs: 30_000,
  retryMs: 2_000,
};

/** What the hub streams: a full snapshot on connect, then deltas. */
export interface SseSource {
  snapshot(): BuildingSnapshot;
  onDelta(listener: (delta: BuildingDelta) => void): () => void;
}

interface Client {
  id: number;
  res: ServerResponse;
  /** Since when the client has been over `maxBufferedBytes` (it gets a snapshot when it drains). */
  behindSince?: number;
}

/**
 * Server-Sent Events for `/api/events`: `snapshot` on connect, then one `delta` per coalescing
 * interval (serialised once, written to every client), heartbeats, a bound per client, clean-up
 * on disconnect. Works on any Node `ServerResponse` (Express' response is one).
 */
export class SseHub {
  readonly options: SseHubOptions;
  private readonly clients = new Map<number, Client>();
  private nextId = 1;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;
  private readonly logger: Logger;

  private readonly m: DashboardMetrics | undefined;

  constructor(
    private readonly source: SseSource,
    options: Partial<SseHubOptions> = {},
    metrics?: AiotMetrics,
    logger?: Logger,
  ) {
    this.m = metrics?.of(dashboardMetrics);
    this.options = { ...SSE_HUB_DEFAULTS, ...options };
    this.logger = (logger ?? silentLogger).child({ component: 'dashboard-sse' });
    this.unsubscribe = source.onDelta((d) => this.broadcast(d));
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response; false (and a 503) when the hub is full or closed. */
  attach(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.closed || this.clients.size >= this.options.maxClients) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '5' }).end('too many event-stream clients\n');
      return false;
    }
    const client: Client = { id: this.nextId++, res };
    this.clients.set(client.id, client);
    this.m?.dashboardSseClients.set(this.clients.size);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${this.options.retryMs}\n\n`);
    this.sendSnapshot(client);
    const drop = () => this.remove(client.id);
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    res.on('drain', () => {
      if (client.behindSince !== undefined && res.writableLength === 0) {
        client.behindSince = undefined;
        this.sendSnapshot(client);
      }
    });
    return true;
  }

  /** Ends every stream (before the HTTP server closes, which would otherwise wait for them). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.heartbeat);
    for (const c of this.clients.values()) c.res.end();
    this.clients.clear();
    this.m?.dashboardSseClients.set(0);
  }

  private remove(id: number): void {
    if (this.clients.delete(id)) this.m?.dashboardSseClients.set(this.clients.size);
  }

  private sendSnapshot(client: Client): void {
    const snap = this.source.snapshot();
    client.res.write(`event: snapshot\nid: ${snap.version}\ndata: ${JSON.stringify(snap)}\n\n`);
    this.m?.dashboardSseEvents.inc({ event: 'snapshot' });
  }

  private broadcast(delta: BuildingDelta): void {
    if (this.clients.size === 0) return;
    this.m?.dashboardDeltaRooms.observe(delta.rooms.length);
    const frame = `event: delta\nid: ${delta.seq}\ndata: ${JSON.stringify(delta)}\n\n`;
    const now = Date.now();
    for (const c of this.clients.values()) {
      if (c.behindSince !== undefined) {
        this.m?.dashboardSseEvents.inc({ event: 'dropped' });
        if (now - c.behindSince >= this.options.slowClientTimeoutMs) {
          this.logger.warn({ client: c.id, bufferedBytes: c.res.writableLength }, 'event-stream client too slow; disconnecting');
          this.remove(c.id);
          c.res.destroy();
        }
        continue;
      }
      if (c.res.writableLength > this.options.maxBufferedBytes) {
        c.behindSince = now;
        this.m?.dashboardSseEvents.inc({ event: 'dropped' });
        continue;
      }
      c.res.write(frame);
      this.m?.dashboardSseEvents.inc({ event: 'delta' });
    }
  }

  private beat(): void {
    const line = `: heartbeat ${Date.now()}\n\n`;
    for (const c of this.clients.values()) if (c.behindSince === undefined) c.res.write(line);
  }
}
