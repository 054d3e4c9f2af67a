/**
 * The learner's HTTP side, on its own listener (`observe.listen` / `--metrics-listen HOST:PORT`), separate from the
 * actors' WebSocket server so that a scrape or a dashboard never shares a socket budget or a code path with the
 * training protocol:
 *   GET /          live dashboard (learner/dashboard/, uPlot served from node_modules: no CDN)
 *   GET /events    server-sent events: every logged metrics row, and the status snapshot every 2 s
 *   GET /status    status snapshot (JSON): readiness, actors, stall, warnings — what `lamer status` prints
 *   GET /history   recent points of every metric (JSON; the dashboard's first paint)
 *   GET /metrics   Prometheus text format (prom-client)
 *   GET /healthz   200 while the process and its event loop respond
 *   GET /readyz    200 once resumed, trainer worker up and accepting actors; 503 with the missing parts otherwise
 * Everything is read-only. Requests from loopback are open; from elsewhere they need an actor bearer token of this
 * run (`Authorization: Bearer <actorId>.<token>`, learner/auth.ts), since the dashboard shows actor names and the
 * run's progress; only the paths listed in `observe.openPaths` (probes, a token-less scrape) are open to anyone.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import { isLoopback } from '../shared/net.js';
import type { Authenticator } from './auth.js';
import { timedDashboardWork } from './dashboard-cost.js';
import type { Observatory } from './observatory.js';

export interface HttpSide {
  readonly url: string;
  readonly port: number;
  /** Open event streams (dashboards). */
  clients(): number;
  close(): Promise<void>;
}

export interface HttpOptions {
  host: string;
  port: number;
  auth: Authenticator;
  observatory: Observatory;
  logger: Logger;
  /** Status push interval for open dashboards (default 2000 ms). */
  statusEveryMs?: number;
  /** Event streams at once (default 32); more get 503. */
  maxStreams?: number;
  /** Paths open to any address (`observe.openPaths`): kubelet probes and a Prometheus scrape carry no token. */
  openPaths?: readonly string[];
}

/** An event loop blocked longer than this answers /healthz with 503 (a scrape that got through at all saw it). */
const HEALTH_MAX_LAG_MS = 5000;
/** Bytes one event stream may have unsent before it is dropped (a stalled tab must not grow memory). */
const MAX_STREAM_BACKLOG = 1 << 20;

const require = createRequire(import.meta.url);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

const ASSETS: Record<string, { file: () => string; type: string }> = {
  '/': { file: () => here('./dashboard/index.html'), type: 'text/html; charset=utf-8' },
  '/assets/dashboard.js': { file: () => here('./dashboard/dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: () => here('./dashboard/dashboard.css'), type: 'text/css; charset=utf-8' },
  '/assets/uPlot.iife.min.js': {
    file: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/assets/uPlot.min.css': { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** Loopback is open; anything else needs a valid bearer token of this run, but for the paths listed as open. */
export function allowed(
  remoteAddress: string | undefined,
  authorization: string | undefined,
  auth: Authenticator,
  request: { path: string; openPaths?: readonly string[] } = { path: '' },
): boolean {
  if (request.openPaths?.includes(request.path)) return true;
  return isLoopback(remoteAddress) || auth.verify(authorization) !== null;
}

export async function startHttpSide(o: HttpOptions): Promise<HttpSide> {
  const obs = o.observatory;
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const streams = new Set<ServerResponse>();
  const cache = new Map<string, Buffer>();
  const asset = (path: string) => {
    let b = cache.get(path);
    if (!b) cache.set(path, (b = readFileSync(ASSETS[path].file())));
    return b;
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!allowed(req.socket.remoteAddress, req.headers.authorization, o.auth, { path, openPaths: o.openPaths })) {
      res
        .writeHead(401, { 'www-authenticate': 'Bearer realm="lamer"', 'content-type': 'text/plain' })
        .end('a bearer token of this run is required from non-loopback addresses\n');
      return;
    }
    switch (path) {
      case '/metrics': {
        const text = await obs.prometheus.metrics();
        res.writeHead(200, { 'content-type': obs.prometheus.contentType }).end(text);
        return;
      }
      case '/healthz': {
        const maxMs = lag.max / 1e6;
        lag.reset();
        json(res, maxMs > HEALTH_MAX_LAG_MS ? 503 : 200, {
          status: maxMs > HEALTH_MAX_LAG_MS ? 'event loop blocked' : 'ok',
          eventLoopMaxLagMs: +maxMs.toFixed(1),
        });
        return;
      }
      case '/readyz': {
        const ready = obs.isReady();
        json(res, ready ? 200 : 503, { ready, ...obs.ready, phase: obs.status().phase });
        return;
      }
      case '/status':
        timedDashboardWork(() => json(res, 200, obs.status()));
        return;
      case '/history':
        timedDashboardWork(() => json(res, 200, obs.historySnapshot()));
        return;
      case '/events':
        timedDashboardWork(() => openStream(req, res));
        return;
      default:
        if (ASSETS[path]) {
          timedDashboardWork(() =>
            res.writeHead(200, { 'content-type': ASSETS[path].type, 'cache-control': 'no-cache' }).end(asset(path)),
          );
          return;
        }
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };

  const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  const send = (res: ServerResponse, text: string) => {
    if (res.writableLength > MAX_STREAM_BACKLOG) {
      streams.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  };
  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    const max = o.maxStreams ?? 32;
    if (streams.size >= max) {
      res.writeHead(503, { 'retry-after': '10', 'content-type': 'text/plain' }).end(`at most ${max} open dashboards\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    send(res, frame('status', obs.status()));
    req.on('close', () => streams.delete(res));
  };
  // The stream work exists only while a dashboard is open: closed, the cost is one listener call per logged row.
  const unsubscribe = obs.fanout.subscribe((wall, version, values) => {
    if (streams.size === 0) return;
    timedDashboardWork(() => {
      const text = frame('metrics', { wall, version, values });
      for (const s of streams) send(s, text);
    });
  });
  const timer = setInterval(() => {
    if (streams.size === 0) return;
    timedDashboardWork(() => {
      const text = frame('status', obs.status());
      for (const s of streams) send(s, text);
    });
  }, o.statusEveryMs ?? 2000);
  timer.unref();

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.logger.warn({ err: (e as Error).message, url: req.url }, 'http side: request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    port,
    clients: () => streams.size,
    async close() {
      clearInterval(timer);
      unsubscribe();
      lag.disable();
      for (const s of streams) s.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
