import { describe, expect, it } from 'vitest';
import type { EpisodeLog, StepResult, TextEnv } from '../../actor/envs/types.js';
import { type GenerationRequest, runTrial, type TrialDeps, type TrialSpec } from '../../actor/trial.js';

/** A one-number env: the answer `w` wins, `x` loses at once, anything else is a harmless step. */
class GuessEnv implements TextEnv {
  readonly id = 'test/Guess-v0';
  readonly template = 'compact' as const;
  readonly calls: string[] = [];
  private turn = 0;
  reset(opts: { seed: number }) {
    this.calls.push(`reset ${opts.seed}`);
    this.turn = 0;
    return { obs: `start ${opts.seed}`, info: {} };
  }
  restart() {
    this.calls.push('restart');
    this.turn = 0;
    return { obs: 'start', info: {} };
  }
  step(response: string): StepResult {
    this.turn++;
    const a = response.trim();
    const won = a === 'w';
    const lost = a === 'x';
    return {
      obs: `after ${a}`,
      reward: won ? 10 : 0,
      terminated: won || lost,
      truncated: false,
      info: { valid: a.length > 0, won, actionText: a },
    } as StepResult;
  }
  anchor() {
    return `turn ${this.turn}`;
  }
  render() {
    return '';
  }
  close() {}
}

/** Whitespace word tokenizer over a fixed vocabulary; id 0 is EOS. */
const VOCAB = ['<eos>', 'w', 'x', 'n', 'r1', 'r2', 'p', 'q'];
const tok = {
  eos: 0,
  encode: (t: string) =>
    t
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => Math.max(0, VOCAB.indexOf(w))),
  decode: (ids: number[]) => ids.map((i) => VOCAB[i]).join(' '),
};

const spec = (over: Partial<TrialSpec> = {}): TrialSpec => ({
  envId: 'test/Guess-v0',
  template: 'compact',
  memory: 'reflection',
  attempts: 3,
  maxTurns: 3,
  reflect: true,
  taskSeed: 42,
  nCtx: 64,
  maxActionTokens: 4,
  maxReflectTokens: 4,
  ...over,
});

/** Deps whose policy answers from a script of words, one per call, and records every prompt context. */
function scripted(words: string[], over: Partial<TrialDeps> = {}) {
  const env = new GuessEnv();
  const requests: GenerationRequest[] = [];
  const contexts: Array<{ phase: string; episode: number; turn: number; past: EpisodeLog[]; steps: number }> = [];
  let i = 0;
  const deps: TrialDeps = {
    env,
    tokenizer: tok,
    stopTokens: { play: [0], reflect: [0] },
    async generate(req) {
      requests.push(req);
      const word = words[i++];
      if (word === undefined) throw new Error('script exhausted');
      return { tokens: tok.encode(word), logprobs: [-0.5], policyVersion: 7 };
    },
    buildPrompt(ctx) {
      // Deep copy: the runner mutates `current` and the past episodes' reflections afterwards.
      contexts.push({
        phase: ctx.phase,
        episode: ctx.episode,
        turn: ctx.turn,
        past: structuredClone(ctx.past),
        steps: ctx.current.steps.length,
      });
      return 'p q';
    },
    parseReflection: (text) => ({ reflection: text.trim(), valid: text.trim().startsWith('r') }),
    ...over,
  };
  return { env, deps, requests, contexts };
}

describe('runTrial', () => {
  it('a win in the first episode ends the trial: no reflection, no restart', async () => {
    const { env, deps } = scripted(['n', 'w']);
    const r = await runTrial(spec(), deps);
    expect(r.episodesWon).toEqual([true]);
    expect(r.rows.map((x) => [x.phase, x.episode, x.turn, x.won])).toEqual([
      ['play', 0, 0, false],
      ['play', 0, 1, true],
    ]);
    expect(r.rows.map((x) => x.reward)).toEqual([0, 10]);
    expect(env.calls).toEqual(['reset 42']);
    expect(r.envSteps).toBe(2);
    expect(r.genTokens).toBe(2);
  });

  it('a lost episode is reflected on, the env restarts, and the reflection reaches the next prompts', async () => {
    // Episode 0 lost at turn 0; reflection "r1"; episode 1 runs out of turns; reflection "r2"; episode 2 wins.
    const { env, deps, contexts } = scripted(['x', 'r1', 'n', 'n', 'n', 'r2', 'w']);
    const r = await runTrial(spec(), deps);
    expect(r.episodesWon).toEqual([false, false, true]);
    expect(env.calls).toEqual(['reset 42', 'restart', 'restart']);
    const shape = r.rows.map((x) => `${x.phase}:${x.episode}:${x.turn}`);
    expect(shape).toEqual(['play:0:0', 'reflect:1:0', 'play:1:0', 'play:1:1', 'play:1:2', 'reflect:2:0', 'play:2:0']);
    const reflections = r.rows.filter((x) => x.phase === 'reflect');
    expect(reflections.map((x) => [x.actionText, x.valid, x.reward, x.won, x.anchor])).toEqual([
      ['r1', true, 0, false, 'reflection'],
      ['r2', true, 0, false, 'reflection'],
    ]);
    // The reflect prompt gets the finished episode as `current` and only the episodes before it as `past`.
    const reflectCtx = contexts.filter((c) => c.phase === 'reflect');
    expect(reflectCtx.map((c) => [c.episode, c.past.length])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    // The first play prompt of episode 2 carries both earlier episodes with their reflections.
    const ep2 = contexts.find((c) => c.phase === 'play' && c.episode === 2)!;
    expect(ep2.past.map((e) => [e.won, e.reflection, e.steps.map((s) => s.action)])).toEqual([
      [false, 'r1', ['x']],
      [false, 'r2', ['n', 'n', 'n']],
    ]);
    // Within an episode the current log grows turn by turn.
    expect(contexts.filter((c) => c.phase === 'play' && c.episode === 1).map((c) => c.steps)).toEqual([0, 1, 2]);
  });

  it('without reflection the env still restarts and no reflect rows are written; attempts bound it', async () => {
    const { env, deps } = scripted(['x', 'x']);
    const r = await runTrial(spec({ reflect: false, attempts: 2 }), deps);
    expect(r.episodesWon).toEqual([false, false]);
    expect(r.rows.every((x) => x.phase === 'play')).toBe(true);
    expect(env.calls).toEqual(['reset 42', 'restart']);
  });

  it("the parser's verdict is kept on the reflect row and its reflection text goes to memory", async () => {
    const { deps, contexts } = scripted(['x', 'n', 'w']);
    const r = await runTrial(spec(), deps);
    const refl = r.rows.find((x) => x.phase === 'reflect')!;
    expect(refl.valid).toBe(false);
    expect(contexts.find((c) => c.phase === 'play' && c.episode === 1)!.past[0].reflection).toBe('n');
  });

  it('prompts are cut from the left to nCtx - maxTokens and requests carry the phase budget and stops', async () => {
    const long = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'p' : 'q')).join(' ');
    const { deps, requests } = scripted(['x', 'r1', 'w'], { buildPrompt: () => long });
    await runTrial(spec({ nCtx: 20, maxActionTokens: 5, maxReflectTokens: 8 }), deps);
    const ids = tok.encode(long);
    expect(requests[0]).toMatchObject({ phase: 'play', maxTokens: 5, stop: [0] });
    expect(requests[0].prompt).toEqual(ids.slice(ids.length - 15));
    expect(requests[1]).toMatchObject({ phase: 'reflect', maxTokens: 8 });
    expect(requests[1].prompt).toEqual(ids.slice(ids.length - 12));
  });

  it('rows carry the sample: prompt and response ids, behaviour log-probs and the policy version', async () => {
    const { deps } = scripted(['w']);
    const [row] = (await runTrial(spec(), deps)).rows;
    expect(Array.from(row.prompt)).toEqual(tok.encode('p q'));
    expect(Array.from(row.response)).toEqual(tok.encode('w'));
    expect(Array.from(row.behavLogp)).toEqual([-0.5]);
    expect(row.policyVersion).toBe(7);
    expect(row.hasLogp).toBe(true);
    expect(row.anchor).toBe('turn 0');
  });

  it('the lockstep hook is awaited before every phase, in order', async () => {
    const phases: string[] = [];
    const { deps } = scripted(['x', 'r1', 'w'], {
      beforePhase: async (episode, phase) => {
        phases.push(`${phase}${episode}`);
      },
    });
    await runTrial(spec(), deps);
    expect(phases).toEqual(['play0', 'reflect1', 'play1']);
  });

  it('a text policy: log-probs are kept only when its tokens are exactly the tokenizer words', async () => {
    const run = async (tokens: Array<{ token: string; logprob: number }>) => {
      const { deps } = scripted([], {
        generate: undefined,
        generateText: async () => ({ text: 'w', tokens, policyVersion: 3 }),
      });
      return (await runTrial(spec(), deps)).rows[0];
    };
    const aligned = await run([{ token: 'w', logprob: -0.25 }]);
    expect([aligned.hasLogp, Array.from(aligned.behavLogp), aligned.policyVersion]).toEqual([true, [-0.25], 3]);
    const split = await run([
      { token: 'w', logprob: -0.25 },
      { token: '!', logprob: -1 },
    ]);
    expect([split.hasLogp, split.behavLogp.length]).toEqual([false, 0]);
  });

  it('token generation without a tokenizer is a clear error', async () => {
    const { deps } = scripted(['w'], { tokenizer: undefined });
    await expect(runTrial(spec(), deps)).rejects.toThrow(/needs generate, tokenizer and stopTokens/);
  });
});
