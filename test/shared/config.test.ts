import { describe, expect, it } from 'vitest';
import { ConfigSchema, describeConfig, mergeLayers, parseOverride, resolveConfig } from '../../shared/config.js';

describe('config', () => {
  it('defaults validate and every leaf is described', () => {
    const cfg = resolveConfig({});
    expect(cfg).toEqual(ConfigSchema.parse({}));
    const lines = describeConfig();
    expect(lines.length).toBeGreaterThan(40);
    for (const l of lines) expect(l).toMatch(/^[a-z]+\.[A-Za-z]+=\S+ {2}\S/);
  });

  it('layers: file < --set, nested env options merge', () => {
    const cfg = resolveConfig(
      { algo: { lr: 1e-3 }, env: { options: { size: 6 } } },
      parseOverride('algo.lr=2e-3'),
      parseOverride('env.options.mines=4'),
    );
    expect(cfg.algo.lr).toBe(2e-3);
    expect(cfg.env.options).toEqual({ size: 6, mines: 4 });
  });

  it('names every bad field, unknown keys included', () => {
    let msg = '';
    try {
      resolveConfig({ algo: { lrr: 1 }, run: { seed: -1, mode: 'fast' } });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain("algo: unknown key(s) 'lrr'");
    expect(msg).toContain('run.seed');
    expect(msg).toContain('run.mode');
  });

  it('cross-field checks run after the schema', () => {
    expect(() => resolveConfig({ model: { dModel: 30, nHead: 4 } })).toThrow(/divisible/);
    expect(() => resolveConfig({ run: { iterations: 0, minutes: 0 } })).toThrow(/never end/);
  });

  it('rejects malformed and dangerous override paths', () => {
    expect(() => parseOverride('novalue')).toThrow(/key.path=value/);
    expect(() => parseOverride('__proto__.x=1')).toThrow(/invalid key path/);
    expect(parseOverride('a.b=[1, 2]')).toEqual({ a: { b: [1, 2] } });
    expect(mergeLayers({ a: { b: 1, c: 2 } }, { a: { b: 3 } })).toEqual({ a: { b: 3, c: 2 } });
  });
});
