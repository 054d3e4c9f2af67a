import { describe, expect, it } from 'vitest';
import { envSpec } from '../../../actor/envs/registry.js';
import { baseModelDir } from '../../../scripts/lib/pretrain-job.js';
import { resolveConfig } from '../../../shared/config.js';

describe('base model cache key', () => {
  const dirFor = (id: string) => baseModelDir(resolveConfig({ env: { id } }));
  const withRevision = <T>(id: string, rev: number | undefined, f: () => T): T => {
    const spec = envSpec(id);
    const old = spec.promptRevision;
    spec.promptRevision = rev;
    try {
      return f();
    } finally {
      spec.promptRevision = old;
    }
  };

  it("changes with an env's prompt revision, and revision 1 is the key without one", () => {
    const ws = 'lamer/WebShop-v0';
    expect(envSpec(ws).promptRevision).toBe(2);
    const now = dirFor(ws);
    expect(withRevision(ws, 1, () => dirFor(ws))).not.toBe(now);
    expect(withRevision(ws, 3, () => dirFor(ws))).not.toBe(now);
    const ms = 'lamer/MineSweeper-v0';
    expect(envSpec(ms).promptRevision).toBeUndefined();
    expect(withRevision(ms, 1, () => dirFor(ms))).toBe(dirFor(ms));
    expect(withRevision(ms, 2, () => dirFor(ms))).not.toBe(dirFor(ms));
  });

  it('differs between envs and seeds, and is stable for one config', () => {
    const a = baseModelDir(resolveConfig({ env: { id: 'lamer/Sokoban-v0' } }));
    expect(baseModelDir(resolveConfig({ env: { id: 'lamer/Sokoban-v0' } }))).toBe(a);
    expect(baseModelDir(resolveConfig({ env: { id: 'lamer/Sokoban-v0' }, run: { seed: 2 } }))).not.toBe(a);
    expect(a).toMatch(/lamer_Sokoban_v0-[0-9a-f]{12}$/);
  });

  it("changes with the labels; 'played' labels key a base model as before the option existed", () => {
    const ms = 'lamer/MineSweeper-v0';
    const solver = dirFor(ms);
    expect(resolveConfig({}).pretrain.labels).toBe('solver');
    const played = baseModelDir(resolveConfig({ env: { id: ms }, pretrain: { labels: 'played' } }));
    expect(played).not.toBe(solver);
    // The option is left out of the key material when 'played': that is the key without it.
    const cfg = resolveConfig({ env: { id: ms }, pretrain: { labels: 'played' } });
    const { labels: _l, ...noLabels } = cfg.pretrain;
    expect(baseModelDir({ ...cfg, pretrain: noLabels as typeof cfg.pretrain })).toBe(played);
  });
});
