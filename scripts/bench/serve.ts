/**
 * Throughput of the OpenAI backend against `lamer serve` (a separate process, as a user runs it): requests/s,
 * latency and generated tokens/s at several client concurrency levels, with real compact MineSweeper play prompts
 * (8-token answers that stop at `</action>`). Prints one JSON line.
 *
 *   node --import tsx scripts/bench/serve.ts [--checkpoint DIR] [--levels 1,4,16,64] [--requests N] [--threads T]
 *
 * Without --checkpoint it uses the cached base model (runs/base/...) if there is one, else a random model of the
 * default size (nCtx 256, d 64, 2 layers, 4 heads) written to a temp dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OpenAIBackend } from '../../actor/backends/openai.js';
import { buildPrompt, compactVocabulary } from '../../actor/envs/prompt.js';
import { makeEnv } from '../../actor/envs/registry.js';
import { loadModelDir, saveModelDir } from '../../shared/model/checkpoint-files.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const ENV = 'lamer/MineSweeper-v0';

export interface ServeBenchOptions {
  checkpoint?: string;
  levels?: number[];
  /** Requests per level (at least 4x the level). */
  requests?: number;
  /** Server decode threads. */
  threads?: number;
}

function pickCheckpoint(given?: string): { dir: string; kind: string; cleanup?: () => void } {
  if (given) return { dir: given, kind: 'given' };
  const base = 'runs/base';
  if (existsSync(base)) {
    const cand = readdirSync(base).filter(
      (d) => d.startsWith('lamer_MineSweeper_v0-') && existsSync(join(base, d, 'tokenizer.json')),
    );
    if (cand.length) return { dir: join(base, cand.sort()[0]), kind: 'base model (cached)' };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'lamer-bench-serve-'));
  const tokenizer = new WordTokenizer([...compactVocabulary(ENV)]);
  const config = { vocabSize: tokenizer.vocabSize, nCtx: 256, dModel: 64, nLayer: 2, nHead: 4 };
  saveModelDir(tmp, { config, params: initParams(buildManifest(config), 1), tokenizer });
  return { dir: tmp, kind: 'random init', cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

function prompts(n: number): string[] {
  const env = makeEnv(ENV, { template: 'compact' });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const obs = env.reset({ seed: 1000 + i }).obs;
    out.push(
      buildPrompt(env, {
        template: 'compact',
        phase: 'play',
        memory: 'reflection',
        initialObs: obs,
        episode: 0,
        turn: 0,
        current: { steps: [], won: false },
        past: [],
      }),
    );
  }
  env.close();
  return out;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

export async function benchServe(o: ServeBenchOptions = {}): Promise<Record<string, unknown>> {
  const levels = o.levels ?? [1, 4, 16, 64];
  const threads = o.threads ?? 1;
  const ck = pickCheckpoint(o.checkpoint);
  const model = loadModelDir(ck.dir).config;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--checkpoint',
      ck.dir,
      '--listen',
      '127.0.0.1:0',
      '--json',
      '--threads',
      String(threads),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`lamer serve exited with ${c}`)));
    });
    const { url } = JSON.parse(first) as { url: string };
    const pool = prompts(256);
    const run = async (c: number, n: number) => {
      const backend = new OpenAIBackend({
        baseUrl: url,
        model: 'lamer',
        endpoint: 'completions',
        concurrency: c,
        timeoutMs: 60_000,
        maxRetries: 0,
        backoffMs: 0,
        logprobs: true,
      });
      const lat: number[] = [];
      let tokens = 0;
      const t0 = performance.now();
      // c clients, each sending its next request when the previous one is answered (latency = server time).
      let next = 0;
      await Promise.all(
        Array.from({ length: c }, async () => {
          for (let i = next++; i < n; i = next++) {
            const s = performance.now();
            const r = await backend.complete({
              prompt: pool[i % pool.length],
              maxTokens: 8,
              stop: ['</action>'],
              temperature: 1,
              topP: 1,
              seed: i,
            });
            lat.push(performance.now() - s);
            tokens += r.tokens?.length ?? 0;
          }
        }),
      );
      return { sec: (performance.now() - t0) / 1000, lat, tokens };
    };
    const root = url.replace(/\/v1$/, '');
    const serverStats = async () =>
      (await (await fetch(`${root}/stats`)).json()) as { decodeBatches: number; decodeRequests: number; cpuMs: number };
    await run(4, 32); // warm-up: sessions, JIT, connection pool
    const out: Array<Record<string, number>> = [];
    for (const c of levels) {
      const n = Math.max(o.requests ?? 96, 4 * c);
      const before = await serverStats();
      const cpu0 = process.cpuUsage();
      const { sec, lat, tokens } = await run(c, n);
      const cpu = process.cpuUsage(cpu0);
      const after = await serverStats();
      const batches = after.decodeBatches - before.decodeBatches;
      out.push({
        concurrency: c,
        requests: n,
        seconds: Math.round(sec * 100) / 100,
        requestsPerSec: Math.round((n / sec) * 10) / 10,
        p50Ms: Math.round(quantile(lat, 0.5) * 10) / 10,
        p95Ms: Math.round(quantile(lat, 0.95) * 10) / 10,
        tokensPerSec: Math.round(tokens / sec),
        // Independent of how busy the machine is: server CPU per request and how well requests were batched.
        serverCpuMsPerRequest: Math.round(((after.cpuMs - before.cpuMs) / n) * 100) / 100,
        clientCpuMsPerRequest: Math.round(((cpu.user + cpu.system) / 1000 / n) * 100) / 100,
        meanDecodeBatch: Math.round(((after.decodeRequests - before.decodeRequests) / Math.max(1, batches)) * 10) / 10,
      });
    }
    return {
      bench: 'serve',
      checkpoint: ck.kind,
      model,
      serverThreads: threads,
      maxTokens: 8,
      endpoint: 'completions',
      levels: out,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    ck.cleanup?.();
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const levels = arg('levels')?.split(',').map(Number);
  benchServe({
    checkpoint: arg('checkpoint'),
    levels,
    requests: arg('requests') ? Number(arg('requests')) : undefined,
    threads: arg('threads') ? Number(arg('threads')) : undefined,
  }).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
