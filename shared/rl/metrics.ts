/**
 * Evaluation metrics (docs/method.md §7): cumulative pass@k over a trial's episodes, trajectory-diversity entropy,
 * retry statistics (does a later attempt use what an earlier one showed?) and success per task type.
 */
import { badInput } from '../errors.js';

/**
 * pass@k = fraction of trials won within their first k episodes (OR of won_0..won_{k−1}); not the unbiased
 * sampling estimator. `wins[i][n]` says whether episode n of trial i was won; a trial that stopped after a win
 * simply has fewer entries. Any k from 1 to `attempts` (the trials' N, which may exceed 3).
 */
export function passAtK(wins: ReadonlyArray<ReadonlyArray<boolean>>, k: number, attempts: number): number {
  checkWins(wins, attempts);
  if (!Number.isInteger(k) || k < 1 || k > attempts)
    throw badInput(`pass@k: k must be an integer in [1, ${attempts}] (attempts), got ${k}`);
  let solved = 0;
  for (const w of wins) if (w.slice(0, k).some(Boolean)) solved++;
  return solved / wins.length;
}

/** [pass@1, ..., pass@attempts]; non-decreasing by construction. */
export function passAtKCurve(wins: ReadonlyArray<ReadonlyArray<boolean>>, attempts: number): number[] {
  checkWins(wins, attempts);
  const firstWin = wins.map((w) => w.indexOf(true));
  const curve: number[] = [];
  for (let k = 1; k <= attempts; k++) curve.push(firstWin.filter((f) => f >= 0 && f < k).length / wins.length);
  return curve;
}

function checkWins(wins: ReadonlyArray<ReadonlyArray<boolean>>, attempts: number): void {
  if (!Number.isInteger(attempts) || attempts < 1)
    throw badInput(`pass@k: attempts must be an integer >= 1, got ${attempts}`);
  if (wins.length === 0) throw badInput('pass@k: no trials');
  wins.forEach((w, i) => {
    if (w.length > attempts)
      throw badInput(`pass@k: trial ${i} has ${w.length} episodes, more than attempts = ${attempts}`);
  });
}

export interface DiversityResult {
  /** Mean over tasks of H = −Σ_j p_j ln p_j, p_j = share of the task's episodes with distinct action sequence j. */
  mean: number;
  perTask: number[];
  /** H / ln K per task (K = the task's episodes; 0 when K = 1): 1 = all episodes different. */
  normalized: number[];
}

/**
 * Trajectory-diversity entropy: `tasks[i]` holds the episodes sampled for task i, each as its exact action
 * sequence (two episodes are the same trajectory iff their sequences are equal element by element).
 */
export function trajectoryDiversity(tasks: ReadonlyArray<ReadonlyArray<ReadonlyArray<string>>>): DiversityResult {
  if (tasks.length === 0) throw badInput('trajectory diversity: no tasks');
  const perTask: number[] = [];
  const normalized: number[] = [];
  tasks.forEach((episodes, i) => {
    const K = episodes.length;
    if (K === 0) throw badInput(`trajectory diversity: task ${i} has no episodes`);
    const counts = new Map<string, number>();
    // JSON keys keep ['a,b'] and ['a', 'b'] apart, which a joined string would not.
    for (const e of episodes) {
      const key = JSON.stringify(e);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let H = 0;
    for (const c of counts.values()) {
      const p = c / K;
      H -= p * Math.log(p);
    }
    H = Math.abs(H); // a single trajectory gives −0
    perTask.push(H);
    normalized.push(K > 1 ? H / Math.log(K) : 0);
  });
  return { mean: perTask.reduce((a, b) => a + b, 0) / perTask.length, perTask, normalized };
}

/** One episode of a trial as the retry metrics see it. */
export interface RetryEpisode {
  won: boolean;
  /** Keys of what the episode did: MineSweeper the cells it clicked, Sokoban the states it reached. */
  visited: ReadonlyArray<string>;
  /** Key of what ended a lost episode (the mine cell clicked, the dead-locked state); absent for a win or a timeout. */
  fatal?: string;
}

export interface RetryStats {
  /** `winAfterLoss[k − 2]` = P(attempt k won | attempts 1..k−1 lost), k = 2..attempts; null when no trial got there. */
  winAfterLoss: Array<number | null>;
  /** Trials that reached attempt k with every earlier attempt lost (the denominators of `winAfterLoss`). */
  reachedAfterLoss: number[];
  /**
   * Share of later attempts (with an earlier fatal key in their trial) whose visited keys include one; null if none.
   */
  fatalRepeat: number | null;
  /** How many later attempts had an earlier fatal key (the denominator of `fatalRepeat`). */
  fatalRepeatOf: number;
}

/**
 * Does a retry use what the failed attempts showed? `trials[i]` holds trial i's episodes in order (a won trial
 * stops, so later episodes are missing). Win-after-loss compares retries with a blind restart; fatal repeat counts
 * later attempts that walk into what killed an earlier one.
 */
export function retryStats(trials: ReadonlyArray<ReadonlyArray<RetryEpisode>>, attempts: number): RetryStats {
  if (!Number.isInteger(attempts) || attempts < 1)
    throw badInput(`retry stats: attempts must be an integer >= 1, got ${attempts}`);
  const reached = new Array<number>(Math.max(0, attempts - 1)).fill(0);
  const won = new Array<number>(Math.max(0, attempts - 1)).fill(0);
  let repeats = 0;
  let exposed = 0;
  trials.forEach((eps, i) => {
    if (eps.length > attempts)
      throw badInput(`retry stats: trial ${i} has ${eps.length} episodes, more than attempts = ${attempts}`);
    const fatal = new Set<string>();
    eps.forEach((e, n) => {
      if (n > 0) {
        if (eps.slice(0, n).every((p) => !p.won)) {
          reached[n - 1]++;
          if (e.won) won[n - 1]++;
        }
        if (fatal.size > 0) {
          exposed++;
          if (e.visited.some((v) => fatal.has(v))) repeats++;
        }
      }
      if (!e.won && e.fatal !== undefined) fatal.add(e.fatal);
    });
  });
  return {
    winAfterLoss: reached.map((r, k) => (r === 0 ? null : won[k] / r)),
    reachedAfterLoss: reached,
    fatalRepeat: exposed === 0 ? null : repeats / exposed,
    fatalRepeatOf: exposed,
  };
}

export interface TaskTypeSuccess {
  n: number;
  successes: number;
  rate: number;
}

/** Success rate per task type (e.g. ALFWorld Pick/Look/Clean/Heat/Cool/Pick2), keys sorted. */
export function successByTaskType(
  records: ReadonlyArray<{ taskType: string; success: boolean }>,
): Record<string, TaskTypeSuccess> {
  const acc = new Map<string, { n: number; successes: number }>();
  for (const r of records) {
    const a = acc.get(r.taskType) ?? { n: 0, successes: 0 };
    a.n++;
    if (r.success) a.successes++;
    acc.set(r.taskType, a);
  }
  const out: Record<string, TaskTypeSuccess> = {};
  for (const k of [...acc.keys()].sort()) {
    const a = acc.get(k)!;
    out[k] = { ...a, rate: a.successes / a.n };
  }
  return out;
}

/** Share of unparsable responses, overall and per phase (a reflection grammar breaking down shows apart from play). */
export function invalidFractions(
  rows: ReadonlyArray<{ phase: 'play' | 'reflect'; valid: boolean }>,
): Record<string, number> {
  const frac = (rs: ReadonlyArray<{ valid: boolean }>) =>
    rs.length === 0 ? 0 : rs.filter((r) => !r.valid).length / rs.length;
  const reflect = rows.filter((r) => r.phase === 'reflect');
  const out: Record<string, number> = {
    'rollout/invalid_frac': frac(rows),
    'rollout/invalid_play_frac': frac(rows.filter((r) => r.phase === 'play')),
  };
  if (reflect.length > 0) out['rollout/invalid_reflect_frac'] = frac(reflect);
  return out;
}
