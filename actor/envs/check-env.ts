/**
 * Env checker (Gymnasium's `env_checker` idea, used by the tests and `lamer check-env`): per seed it verifies that
 * the same seed gives the same episode, that `restart()` restores the instance exactly, the generic step contract
 * (terminated/truncated apart, `info.episode` totals, no stepping past the end), and the env's own reward rules
 * (`EnvSpec.checkRules`) against its scripted solution and random play (e.g. Sokoban: generated levels solvable in
 * range, returns equal the reward formula; MineSweeper: every reward matches the board change). It also measures
 * solver and random success and env speed.
 */
import { createRng, deriveSeed, type Rng } from '../../shared/rng.js';
import { envSpecs, makeEnv, resolveEnvId } from './registry.js';
import { scriptedAction } from './scripted.js';
import type { CheckedEpisode, StepResult, TextEnv } from './types.js';

export type { CheckedEpisode, RuleCheck } from './types.js';

export interface CheckEnvOptions {
  /** Number of seeds (one task instance each). */
  episodes: number;
  /** First seed; seeds are seedStart .. seedStart + episodes - 1. Default 0. */
  seedStart?: number;
  /** Env options (template, size, ...). */
  options?: Record<string, unknown>;
  /** Turn budget for the `...WithinTurns` success numbers (the trial runner's max turns). Default 7. */
  maxTurns?: number;
}

export interface CheckEnvReport {
  env: string;
  episodes: number;
  deterministic: boolean;
  restartExact: boolean;
  /** Step contract and env-specific reward/termination rules held on every step. */
  rulesConsistent: boolean;
  /** Every instance was solved by the scripted solver within the env's own limits (Sokoban must be 1). */
  solverSuccess: number;
  solverSuccessWithinTurns: number;
  /** Uniformly random valid actions. */
  randomSuccess: number;
  randomSuccessWithinTurns: number;
  /** Sokoban: mean shortest solution length in moves; MineSweeper: mean solver clicks in won episodes. */
  meanSolutionLength: number;
  /** env.step() calls per second (random and solver rollouts; includes Sokoban's dead-end check). */
  stepsPerSec: number;
  resetsPerSec: number;
  /** All of deterministic, restartExact and rulesConsistent. */
  ok: boolean;
  /** Up to 10 problems, each naming the seed. */
  failures: string[];
}

const SAFETY_TURNS = 10_000;

class Checker {
  failures: string[] = [];
  /** Any step-contract or reward-rule failure (determinism and restart failures are tracked by their flags). */
  rulesBroken = false;
  stepTime = 0;
  steps = 0;

  /** Records a problem; `rule` marks it as a step-contract/reward-rule failure. */
  fail(msg: string, rule = true): void {
    if (rule) this.rulesBroken = true;
    if (this.failures.length < 10) this.failures.push(msg);
    else if (this.failures.length === 10) this.failures.push('... more failures omitted');
  }

  step(env: TextEnv, response: string): StepResult {
    const t = performance.now();
    const r = env.step(response);
    this.stepTime += performance.now() - t;
    this.steps++;
    return r;
  }

  /** Plays one episode from the env's current state with `policy`, checking the generic step contract. */
  play(env: TextEnv, seed: number, policy: (env: TextEnv) => string): CheckedEpisode {
    const ep: CheckedEpisode = { responses: [], results: [], won: false, turns: 0 };
    let sum = 0;
    for (let t = 0; t < SAFETY_TURNS; t++) {
      const response = policy(env);
      const r = this.step(env, response);
      ep.responses.push(response);
      ep.results.push(r);
      sum += r.reward;
      const end = r.terminated || r.truncated;
      if (r.terminated && r.truncated) this.fail(`seed ${seed}: step ${t + 1} is both terminated and truncated`);
      if (
        typeof r.info.valid !== 'boolean' ||
        typeof r.info.won !== 'boolean' ||
        typeof r.info.actionText !== 'string'
      ) {
        this.fail(`seed ${seed}: step ${t + 1} info lacks won/valid/actionText`);
      }
      if (r.info.won && !r.terminated) this.fail(`seed ${seed}: step ${t + 1} won without terminating`);
      if (end !== (r.info.episode !== undefined))
        this.fail(`seed ${seed}: info.episode must be set exactly on the last step`);
      if (end) {
        const e = r.info.episode as { r: number; l: number };
        if (Math.abs(e.r - sum) > 1e-6 || e.l !== t + 1)
          this.fail(`seed ${seed}: info.episode ${JSON.stringify(e)} != (${sum}, ${t + 1})`);
        let threw = false;
        try {
          env.step(response);
        } catch {
          threw = true;
        }
        if (!threw) this.fail(`seed ${seed}: step() after the end did not throw`);
        ep.won = r.info.won;
        ep.turns = t + 1;
        return ep;
      }
    }
    this.fail(`seed ${seed}: episode did not end within ${SAFETY_TURNS} turns`);
    return ep;
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Runs the checker over `episodes` seeds. Deterministic for given options. */
export function checkEnv(envId: string, opts: CheckEnvOptions): CheckEnvReport {
  const id = resolveEnvId(envId);
  const seedStart = opts.seedStart ?? 0;
  const maxTurns = opts.maxTurns ?? 7;
  const options = opts.options ?? {};
  const ck = new Checker();
  const a = makeEnv(id, options);
  const b = makeEnv(id, options);
  let deterministic = true;
  let restartExact = true;
  let solverWins = 0;
  let solverWinsK = 0;
  let randomWins = 0;
  let randomWinsK = 0;
  let lengthSum = 0;
  let lengthN = 0;
  let resetTime = 0;
  let resets = 0;

  for (let i = 0; i < opts.episodes; i++) {
    const seed = seedStart + i;
    try {
      const t0 = performance.now();
      const ra = a.reset({ seed });
      resetTime += performance.now() - t0;
      resets++;
      const rb = b.reset({ seed });
      if (!same(ra, rb)) {
        deterministic = false;
        ck.fail(`seed ${seed}: two resets with the same seed differ`, false);
      }
      if (a.anchor() !== ra.obs || a.render() !== ra.obs)
        ck.fail(`seed ${seed}: anchor()/render() differ from the reset observation`);

      // Random valid actions (the scripted policy at noise 1), replayed on a second env and after restart().
      const rng: Rng = createRng(deriveSeed('check-env', seed));
      const random = ck.play(a, seed, (env) => scriptedAction(env, env.template, rng, { noise: 1 }));
      if (random.won) randomWins++;
      if (random.won && random.turns <= maxTurns) randomWinsK++;
      const replayB = replay(ck, b, random.responses);
      if (!same(replayB, random.results)) {
        deterministic = false;
        ck.fail(`seed ${seed}: the same actions gave different steps on a second env`, false);
      }
      const rs = a.restart();
      if (rs.obs !== ra.obs || a.anchor() !== ra.obs || !same(replay(ck, a, random.responses), random.results)) {
        restartExact = false;
        ck.fail(`seed ${seed}: restart() did not restore the initial state exactly`, false);
      }

      // Scripted solver from the initial state, with env-specific rule checks.
      a.restart();
      const solved = ck.play(a, seed, (env) => scriptedAction(env));
      if (solved.won) solverWins++;
      if (solved.won && solved.turns <= maxTurns) solverWinsK++;
      // Rules follow the id the env reports, so wrappers registered under another id are checked by them too.
      const extra = envSpecs().find((e) => e.id === a.id)?.checkRules;
      if (extra) {
        const len = extra(ck, seed, ra, solved, random, options);
        if (len !== null) {
          lengthSum += len;
          lengthN++;
        }
      } else if (solved.won) {
        lengthSum += solved.turns;
        lengthN++;
      }
    } catch (e) {
      ck.fail(`seed ${seed}: threw ${(e as Error).message}`);
    }
  }
  a.close();
  b.close();
  const n = Math.max(1, opts.episodes);
  const consistent = !ck.rulesBroken;
  return {
    env: id,
    episodes: opts.episodes,
    deterministic,
    restartExact,
    rulesConsistent: consistent,
    solverSuccess: solverWins / n,
    solverSuccessWithinTurns: solverWinsK / n,
    randomSuccess: randomWins / n,
    randomSuccessWithinTurns: randomWinsK / n,
    meanSolutionLength: lengthN > 0 ? lengthSum / lengthN : 0,
    stepsPerSec: ck.stepTime > 0 ? Math.round((ck.steps / ck.stepTime) * 1000) : 0,
    resetsPerSec: resetTime > 0 ? Math.round((resets / resetTime) * 1000) : 0,
    ok: deterministic && restartExact && consistent,
    failures: ck.failures,
  };
}

/** Steps `responses` in order; an exception (e.g. stepping past an earlier end) is returned as the last entry. */
function replay(ck: Checker, env: TextEnv, responses: string[]): Array<StepResult | { threw: string }> {
  const out: Array<StepResult | { threw: string }> = [];
  for (const r of responses) {
    try {
      out.push(ck.step(env, r));
    } catch (e) {
      out.push({ threw: (e as Error).message });
      break;
    }
  }
  return out;
}
