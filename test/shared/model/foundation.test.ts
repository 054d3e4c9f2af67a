import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseModelConfig, TOY_CONFIG } from '../../../shared/model/config.js';
import { buildManifest, initParams, paramView } from '../../../shared/model/manifest.js';
import { WordTokenizer } from '../../../shared/model/tokenizer.js';
import { readSafetensors, writeSafetensors } from '../../../shared/model/safetensors.js';
import { AdamW, decayMaskFor } from '../../../shared/model/adamw.js';
import { loadModelDir, parseModel, saveModelDir, serializeModel } from '../../../shared/model/checkpoint-files.js';
import { Xoshiro128Rng } from '../../../shared/rng.js';

describe('model config', () => {
  it('accepts a valid config and names the problem in a bad one', () => {
    expect(parseModelConfig({ ...TOY_CONFIG })).toEqual(TOY_CONFIG);
    expect(() => parseModelConfig({ ...TOY_CONFIG, nHead: 5 })).toThrow(/dModel must be divisible by nHead/);
    expect(() => parseModelConfig({ ...TOY_CONFIG, vocabSize: 0 })).toThrow(/vocabSize/);
    expect(() => parseModelConfig({ ...TOY_CONFIG, extra: 1 })).toThrow(/extra/);
  });
});

describe('manifest and init', () => {
  it('uses the Hugging Face GPT-2 names, shapes and a contiguous layout', () => {
    const m = buildManifest(TOY_CONFIG);
    const d = 64;
    const byName = new Map(m.entries.map((e) => [e.name, e]));
    expect(byName.get('transformer.wte.weight')!.shape).toEqual([64, d]);
    expect(byName.get('transformer.wpe.weight')!.shape).toEqual([128, d]);
    expect(byName.get('transformer.h.1.attn.c_attn.weight')!.shape).toEqual([d, 3 * d]);
    expect(byName.get('transformer.h.0.mlp.c_fc.weight')!.shape).toEqual([d, 4 * d]);
    expect(byName.get('transformer.h.0.mlp.c_proj.weight')!.shape).toEqual([4 * d, d]);
    expect(byName.has('transformer.ln_f.bias')).toBe(true);
    expect(byName.has('lm_head.weight')).toBe(false); // tied to wte
    let off = 0;
    for (const e of m.entries) {
      expect(e.offset).toBe(off);
      expect(e.size).toBe(e.shape.reduce((a, b) => a * b, 1));
      off += e.size;
    }
    // wte + wpe + 2 blocks + ln_f, counted by hand.
    expect(m.totalSize).toBe(
      64 * 64 + 128 * 64 + 2 * (4 * 64 + 64 * 192 + 192 + 64 * 64 + 64 + 64 * 256 + 256 + 256 * 64 + 64) + 2 * 64,
    );
  });

  it('initialises like GPT-2, deterministically per seed', () => {
    const m = buildManifest(TOY_CONFIG);
    const a = initParams(m, 7);
    expect(initParams(m, 7)).toEqual(a);
    expect(initParams(m, 8)).not.toEqual(a);
    const std = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(std(paramView(m, a, 'transformer.h.0.attn.c_attn.weight'))).toBeCloseTo(0.02, 2);
    expect(std(paramView(m, a, 'transformer.h.0.mlp.c_proj.weight'))).toBeCloseTo(0.02 / Math.sqrt(4), 2);
    expect(paramView(m, a, 'transformer.h.0.ln_1.weight').every((x) => x === 1)).toBe(true);
    expect(paramView(m, a, 'transformer.h.0.attn.c_attn.bias').every((x) => x === 0)).toBe(true);
  });

  it('rng: uniform in [0,1), normal has mean 0 and variance 1', () => {
    const r = new Xoshiro128Rng(123);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
});

describe('WordTokenizer', () => {
  const t = new WordTokenizer(['click', 'flag', '0', '1', 'click', '<eos>', 'row']);
  it('puts specials first, dedupes and keeps order', () => {
    expect(t.words).toEqual(['<pad>', '<bos>', '<eos>', '<unk>', 'click', 'flag', '0', '1', 'row']);
    expect([t.pad, t.bos, t.eos, t.unk]).toEqual([0, 1, 2, 3]);
    expect(t.vocabSize).toBe(9);
  });
  it('encodes on whitespace; unknown words become <unk>', () => {
    expect(t.encode('  click 0\n1\tzebra ')).toEqual([4, 6, 7, 3]);
    expect(t.decode([4, 6, 7, 3])).toBe('click 0 1 <unk>');
    expect(() => t.decode([99])).toThrow(/outside the vocabulary/);
  });
  it('round-trips through the Hugging Face WordLevel JSON, including awkward words', () => {
    const w = new WordTokenizer(['__proto__', 'constructor', '10', '2', 'a']);
    const back = WordTokenizer.fromJSON(JSON.parse(JSON.stringify(w.toJSON())));
    expect(back.words).toEqual(w.words);
    expect(back.id('__proto__')).toBe(4);
  });
  it('rejects words with whitespace', () => {
    expect(() => new WordTokenizer(['a b'])).toThrow(/without whitespace/);
  });
});

describe('safetensors', () => {
  it('round-trips every dtype bit-exactly and pads the header to 8 bytes', () => {
    const f = Float32Array.of(1.5, -0, NaN, 3e-39);
    const bytes = writeSafetensors(
      [
        ['a', { dtype: 'F32', shape: [2, 2], data: f }],
        ['b', { dtype: 'F64', shape: [1], data: Float64Array.of(Math.PI) }],
        ['c', { dtype: 'I32', shape: [3], data: Int32Array.of(-1, 2, 3) }],
        ['d', { dtype: 'I64', shape: [], data: BigInt64Array.of(-5n) }],
      ],
      { format: 'pt' },
    );
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + hlen) % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(new Uint8Array(tensors.get('a')!.data.buffer)).toEqual(new Uint8Array(f.buffer));
    expect(tensors.get('b')!.data[0]).toBe(Math.PI);
    expect(Array.from(tensors.get('c')!.data as Int32Array)).toEqual([-1, 2, 3]);
    expect(tensors.get('d')!.data[0]).toBe(-5n);
    expect(tensors.get('d')!.shape).toEqual([]);
  });

  const good = () => writeSafetensors([['x', { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]]);
  const withHeader = (h: unknown, data = new Uint8Array(8)) => {
    const hb = Buffer.from(JSON.stringify(h));
    const out = new Uint8Array(8 + hb.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(data, 8 + hb.length);
    return out;
  };
  it('rejects malformed files with a message naming the problem', () => {
    expect(() => readSafetensors(new Uint8Array(3))).toThrow(/too short/);
    const huge = good();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => readSafetensors(huge)).toThrow(/header length/);
    expect(() => readSafetensors(good().subarray(0, 20))).toThrow(/past the end/);
    expect(() => readSafetensors(withHeader({ x: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }))).toThrow(
      /unsupported dtype/,
    );
    expect(() => readSafetensors(withHeader({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }))).toThrow(
      /needs 12 bytes/,
    );
    expect(() => readSafetensors(withHeader({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }))).toThrow(
      /outside/,
    );
    expect(() => readSafetensors(withHeader({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }))).toThrow(
      /hole/,
    );
    expect(() => readSafetensors(withHeader({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }))).toThrow(
      /cover 4/,
    );
    expect(() =>
      readSafetensors(
        withHeader({
          x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        }),
      ),
    ).toThrow(/overlap/);
    expect(() => readSafetensors(withHeader({ __metadata__: { a: 1 } }, new Uint8Array(0)))).toThrow(
      /must be a string/,
    );
  });

  it('never crashes on random bytes or random corruption (only clean errors)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(255), (junk, pos, val) => {
        for (const bytes of [
          junk,
          (() => {
            const g = good();
            g[pos % g.length] = val;
            return g;
          })(),
        ]) {
          try {
            readSafetensors(bytes);
          } catch (e) {
            expect((e as { code?: string }).code).toBe('RL_ERR_CHECKPOINT');
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('AdamW', () => {
  it('matches a hand-computed PyTorch AdamW step', () => {
    const p = Float32Array.of(1, -2);
    const g = Float32Array.of(0.5, 0.1);
    const opt = new AdamW(2, { lr: 0.1, weightDecay: 0.1, clipNorm: 0 });
    opt.step(p, g);
    // step 1: mhat = g, vhat = g^2 → update = lr * g/(|g|+eps) = ±0.1; decay first: p *= (1 - lr*wd).
    expect(p[0]).toBeCloseTo(1 * (1 - 0.01) - 0.1, 6);
    expect(p[1]).toBeCloseTo(-2 * (1 - 0.01) - 0.1, 6);
    expect(opt.state().step).toBe(1);
  });
  it('clips the global norm and reports the pre-clip norm', () => {
    const opt = new AdamW(2, { lr: 1e-3, clipNorm: 1 });
    const r = opt.step(new Float32Array(2), Float32Array.of(3, 4));
    expect(r.gradNorm).toBeCloseTo(5, 6);
    expect(r.clipped).toBe(true);
    expect(opt.state().m[0]).toBeCloseTo((0.1 * 3) / 5, 5);
  });
  it('refuses non-finite gradients without touching state, and round-trips its state', () => {
    const opt = new AdamW(3, { lr: 1e-2 });
    const p = Float32Array.of(1, 2, 3);
    opt.step(p, Float32Array.of(0.1, 0.2, 0.3));
    const before = opt.state();
    const pBefore = p.slice();
    expect(() => opt.step(p, Float32Array.of(NaN, 0, 0))).toThrow(/gradient norm/);
    expect(p).toEqual(pBefore);
    expect(opt.state()).toEqual(before);
    const other = new AdamW(3, { lr: 1e-2 });
    other.load(before);
    const p2 = p.slice();
    opt.step(p, Float32Array.of(1, 1, 1));
    other.step(p2, Float32Array.of(1, 1, 1));
    expect(p2).toEqual(p);
  });
  it('decays only matrices and embeddings with decayMaskFor', () => {
    const m = buildManifest({ vocabSize: 5, nCtx: 4, dModel: 4, nLayer: 1, nHead: 1 });
    const mask = decayMaskFor(m);
    const e = (n: string) => m.entries.find((x) => x.name === n)!;
    expect(mask[e('transformer.wte.weight').offset]).toBe(1);
    expect(mask[e('transformer.h.0.ln_1.weight').offset]).toBe(0);
    expect(mask[e('transformer.h.0.attn.c_attn.bias').offset]).toBe(0);
  });
});

describe('checkpoint files', () => {
  const cfg = { vocabSize: 12, nCtx: 8, dModel: 8, nLayer: 2, nHead: 2 };
  const m = buildManifest(cfg);
  const params = initParams(m, 3);
  const opt = new AdamW(m.totalSize, { lr: 1e-3 });
  opt.step(
    params.slice(),
    params.map((x) => x * 0.5),
  );
  const tok = new WordTokenizer(['a', 'b', 'c']);
  const model = { config: cfg, params, optimizer: opt.state(), tokenizer: tok, extra: { policyVersion: 4, note: 'x' } };

  it('round-trips bit-exactly (and re-serialises to identical bytes)', () => {
    const files = serializeModel(model);
    expect([...files.keys()].sort()).toEqual([
      'config.json',
      'lamer.json',
      'model.safetensors',
      'optimizer.safetensors',
      'tokenizer.json',
    ]);
    const back = parseModel(files);
    expect(new Uint8Array(back.params.buffer)).toEqual(new Uint8Array(params.buffer));
    expect(back.optimizer!.step).toBe(1);
    expect(new Uint8Array(back.optimizer!.m.buffer)).toEqual(new Uint8Array(model.optimizer.m.buffer));
    expect(new Uint8Array(back.optimizer!.v.buffer)).toEqual(new Uint8Array(model.optimizer.v.buffer));
    expect(back.tokenizer!.words).toEqual(tok.words);
    expect(back.extra).toEqual(model.extra);
    const again = serializeModel(back);
    for (const [k, v] of files) expect(Buffer.compare(Buffer.from(again.get(k)!), Buffer.from(v))).toBe(0);
  });

  it('writes a Hugging Face GPT2 config and HF tensor names', () => {
    const files = serializeModel(model);
    const hf = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    expect(hf).toMatchObject({
      model_type: 'gpt2',
      activation_function: 'gelu',
      n_embd: 8,
      n_layer: 2,
      n_head: 2,
      n_positions: 8,
      vocab_size: 12,
      layer_norm_epsilon: 1e-5,
    });
    const { tensors, metadata } = readSafetensors(files.get('model.safetensors')!);
    expect(metadata.format).toBe('pt');
    expect([...tensors.keys()]).toEqual(m.entries.map((e) => e.name));
  });

  it('saves atomically to a directory and loads it back', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lamer-ckpt-')), 'model');
    saveModelDir(dir, model);
    expect(readdirSync(dir).some((f) => f.includes('.tmp'))).toBe(false);
    const back = loadModelDir(dir);
    expect(back.params).toEqual(params);
    // Corrupt the manifest: a clear error naming the entry.
    const meta = JSON.parse(readFileSync(join(dir, 'lamer.json'), 'utf8'));
    meta.manifest[3].shape = [9];
    writeFileSync(join(dir, 'lamer.json'), JSON.stringify(meta));
    expect(() => loadModelDir(dir)).toThrow(/manifest does not match its config at entry 3/);
  });

  it('rejects mismatched config, tensors and optimizer with clear errors', () => {
    const files = serializeModel(model);
    const other = serializeModel({
      config: { ...cfg, dModel: 4 },
      params: initParams(buildManifest({ ...cfg, dModel: 4 }), 1),
    });
    const mixed = new Map(files);
    mixed.set('model.safetensors', other.get('model.safetensors')!);
    expect(() => parseModel(mixed)).toThrow(/shape \[12,4\], the config implies \[12,8\]/);
    const hfBad = new Map(files);
    hfBad.set('config.json', other.get('config.json')!);
    expect(() => parseModel(hfBad)).toThrow(/config.json n_embd is 4/);
    const noW = new Map(files);
    noW.delete('model.safetensors');
    expect(() => parseModel(noW)).toThrow(/missing model.safetensors/);
    expect(() => serializeModel({ config: cfg, params: new Float32Array(3) })).toThrow(/parameters have 3 values/);
    expect(() =>
      serializeModel({ ...model, tokenizer: new WordTokenizer(Array.from({ length: 20 }, (_, i) => `w${i}`)) }),
    ).toThrow(/tokenizer has 24 words/);
  });
});
