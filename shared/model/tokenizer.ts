/**
 * Word-level tokenizer for the embedded model: the compact prompt vocabulary (env symbols, digits, action
 * words, control tokens). Text splits on whitespace; an unknown word maps to `<unk>`, never to null.
 * Serialises as a Hugging Face `tokenizers` WordLevel `tokenizer.json`, so the checkpoint loads there too.
 */
import { LamerError, badInput } from '../errors.js';

export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

/** Hugging Face `tokenizers` JSON (the subset we write and read). */
export interface WordTokenizerJson {
  version: string;
  added_tokens: Array<{
    id: number;
    content: string;
    special: boolean;
    single_word: boolean;
    lstrip: boolean;
    rstrip: boolean;
    normalized: boolean;
  }>;
  normalizer: null;
  pre_tokenizer: { type: 'WhitespaceSplit' };
  post_processor: null;
  decoder: null;
  truncation: null;
  padding: null;
  model: { type: 'WordLevel'; vocab: Record<string, number>; unk_token: string };
}

export class WordTokenizer {
  /** Id → word; specials occupy ids 0..3. */
  readonly words: readonly string[];
  readonly pad = 0;
  readonly bos = 1;
  readonly eos = 2;
  readonly unk = 3;
  private readonly ids: Map<string, number>;

  /** Specials first (`<pad> <bos> <eos> <unk>`), then `words` in order, duplicates dropped. */
  constructor(words: readonly string[]) {
    if (!Array.isArray(words)) throw badInput('tokenizer words must be an array of strings');
    const all: string[] = [...SPECIAL_TOKENS];
    const ids = new Map<string, number>(all.map((w, i) => [w, i]));
    for (const w of words) {
      if (typeof w !== 'string' || w.length === 0 || /\s/.test(w)) {
        throw badInput(`tokenizer word ${JSON.stringify(w)} must be a non-empty string without whitespace`);
      }
      if (ids.has(w)) continue;
      ids.set(w, all.length);
      all.push(w);
    }
    this.words = Object.freeze(all);
    this.ids = ids;
  }

  get vocabSize(): number {
    return this.words.length;
  }

  /** Id of a word (`<unk>` for an unknown word). */
  id(word: string): number {
    return this.ids.get(word) ?? this.unk;
  }

  /** Splits on whitespace; unknown words become `<unk>`. No `<bos>`/`<eos>` is added. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const w of text.split(/\s+/)) if (w.length > 0) out.push(this.id(w));
    return out;
  }

  /** Words joined by single spaces (specials included literally). Throws on an id outside the vocabulary. */
  decode(ids: ArrayLike<number>): string {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const w = Number.isInteger(id) ? this.words[id] : undefined;
      if (w === undefined)
        throw new LamerError('RL_ERR_MODEL', `token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      out.push(w);
    }
    return out.join(' ');
  }

  /** The Hugging Face WordLevel tokenizer.json object. */
  toJSON(): WordTokenizerJson {
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: SPECIAL_TOKENS.map((content, id) => ({
        id,
        content,
        special: true,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
      })),
      normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(this.words.map((w, i) => [w, i])), unk_token: '<unk>' },
    };
  }

  /** Reads what `toJSON` wrote (ids must be 0..n-1 with the specials first). */
  static fromJSON(value: unknown): WordTokenizer {
    const vocab = (value as { model?: { type?: unknown; vocab?: unknown } } | null)?.model?.vocab;
    if (
      (value as { model?: { type?: unknown } } | null)?.model?.type !== 'WordLevel' ||
      typeof vocab !== 'object' ||
      vocab === null
    ) {
      throw new LamerError('RL_ERR_CHECKPOINT', 'tokenizer.json is not a WordLevel tokenizer (model.vocab missing)');
    }
    const byId: string[] = [];
    for (const [w, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (!Number.isInteger(id) || (id as number) < 0 || byId[id as number] !== undefined) {
        throw new LamerError(
          'RL_ERR_CHECKPOINT',
          `tokenizer.json: bad or duplicate id ${String(id)} for word ${JSON.stringify(w)}`,
        );
      }
      byId[id as number] = w;
    }
    for (let i = 0; i < byId.length; i++) {
      if (byId[i] === undefined)
        throw new LamerError('RL_ERR_CHECKPOINT', `tokenizer.json: ids are not contiguous (id ${i} missing)`);
    }
    SPECIAL_TOKENS.forEach((s, i) => {
      if (byId[i] !== s)
        throw new LamerError(
          'RL_ERR_CHECKPOINT',
          `tokenizer.json: id ${i} must be ${s}, got ${JSON.stringify(byId[i])}`,
        );
    });
    const t = new WordTokenizer(byId.slice(SPECIAL_TOKENS.length));
    if (t.vocabSize !== byId.length) throw new LamerError('RL_ERR_CHECKPOINT', 'tokenizer.json: duplicate words');
    return t;
  }
}
