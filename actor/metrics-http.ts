/**
 * `lamer actor --metrics-listen HOST:PORT`: the actor's own Prometheus endpoint, for scraping actors directly (the
 * learner already shows their main figures, which travel in trial stats). `GET /metrics` only: every numeric
 * figure of the actor and its learner client as `lamer_actor_<name>{actor_id}`, plus the process metrics. Open on
 * loopback; from elsewhere it needs this actor's own bearer header (`Bearer <actorId>.<token>`).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { isLoopback } from '../shared/net.js';

export interface ActorMetricsOptions {
  host: string;
  port: number;
  actorId: string;
  /** The `Authorization` header value this actor sends to the learner. */
  authorization: string;
  /** Current figures, read at scrape time (non-numeric fields are skipped). */
  figures(): Record<string, unknown>;
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-z0-9_]/g, '_');

/**
 * Loopback is open; elsewhere the request must carry exactly this actor's bearer header (compared in constant
 * time).
 */
export function scrapeAllowed(
  remoteAddress: string | undefined,
  authorization: string | undefined,
  expected: string,
): boolean {
  if (isLoopback(remoteAddress)) return true;
  const given = Buffer.from(authorization ?? '');
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}

export async function startActorMetrics(o: ActorMetricsOptions): Promise<{ url: string; close(): Promise<void> }> {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  registry.setDefaultLabels({ actor_id: o.actorId });
  const gauges = new Map<string, client.Gauge>();
  const refresh = () => {
    for (const [k, v] of Object.entries(o.figures())) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const name = `lamer_actor_${snake(k)}`;
      let g = gauges.get(name);
      if (!g) gauges.set(name, (g = new client.Gauge({ name, help: `actor figure '${k}'`, registers: [registry] })));
      g.set(v);
    }
  };
  const server = createServer((req, res) => {
    if (!scrapeAllowed(req.socket.remoteAddress, req.headers.authorization, o.authorization)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="lamer-actor"' }).end();
      return;
    }
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    refresh();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
