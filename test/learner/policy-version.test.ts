/**
 * Stale and future policy versions (docs/reliability.md §1), as properties with a fixed seed
 * (LAMER_FUZZ_RUNS scales the run count, as in test/proto/codec.test.ts):
 * - ingest: a trial with any row sampled by a version newer than the learner's is rejected, naming that row;
 *   any trial whose rows are all at or below the learner's version passes that check;
 * - update: rows with lag > maxPolicyLag or lag < 0 never reach the optimizer and are counted as dropped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runUpdate, type RecordedRow, type TrainerApi } from '../../learner/update.js';
import { validateTrial } from '../../proto/messages.js';
import { resolveConfig } from '../../shared/config.js';
import type { Group } from '../../shared/rl/types.js';
import { sampleTrial } from '../proto/samples.js';

const runs = Number(process.env.LAMER_FUZZ_RUNS ?? 10_000);
const seed = 20240602;

describe('future policy versions at ingest', () => {
  it(`rejects exactly the trials with a row newer than the learner (${runs} cases)`, () => {
    const base = sampleTrial(3);
    fc.assert(
      fc.property(
        fc.nat(1000),
        fc.array(fc.nat(1010), { minLength: base.rows.length, maxLength: base.rows.length }),
        (learner, versions) => {
          const t = { ...base, rows: base.rows.map((r, i) => ({ ...r, policyVersion: versions[i] })) };
          const reason = validateTrial(t, { learnerPolicyVersion: learner });
          const first = versions.findIndex((v) => v > learner);
          if (first === -1) return reason === null;
          return reason === `row ${first}: policyVersion ${versions[first]} is newer than the learner's ${learner}`;
        },
      ),
      { numRuns: runs, seed },
    );
  });
});

/** A trainer that records what reaches the optimizer. */
function recordingTrainer(): TrainerApi & { rowsSeen: number } {
  const t = {
    rowsSeen: 0,
    score: async (_tokens: Int32Array, B: number, T: number) => new Float32Array(B * T),
    ppoStep: async (b: { B: number; respMask: Float32Array; T: number }) => {
      for (let i = 0; i < b.B; i++) if (b.respMask.subarray(i * b.T, (i + 1) * b.T).some((m) => m > 0)) t.rowsSeen++;
      return { loss: 0, gradNorm: 0, entropy: 0, clipFrac: 0 };
    },
  };
  return t;
}

function group(versions: number[]): Group<RecordedRow> {
  // Two trials (a group needs a baseline), one episode each, one play row per version.
  const half = Math.ceil(versions.length / 2);
  const trial = (vs: number[], k: number) => ({
    trialId: `g/${k}`,
    rows: vs.map(
      (v, turn): RecordedRow => ({
        phase: 'play',
        episode: 0,
        turn,
        reward: turn === vs.length - 1 ? k : 0,
        valid: true,
        anchor: `s${turn}`,
        policyVersion: v,
        prompt: Int32Array.from([5, 6, 7]),
        response: Int32Array.from([8, 9]),
        behavLogp: Float32Array.from([-1, -1]),
      }),
    ),
  });
  return { groupId: 'g', trials: [trial(versions.slice(0, half), 0), trial(versions.slice(half), 1)] };
}

describe('policy lag filter in the update', () => {
  const updateRuns = Math.max(50, Math.floor(runs / 50));
  it(`drops rows with lag > maxPolicyLag or lag < 0 before the optimizer (${updateRuns} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(40),
        fc.nat(10),
        fc.array(fc.nat(50), { minLength: 2, maxLength: 12 }),
        async (version, maxLag, versions) => {
          const algo = { ...resolveConfig({}).algo, maxPolicyLag: maxLag, miniBatchRows: 4, ppoEpochs: 1 };
          const trainer = recordingTrainer();
          const res = await runUpdate(trainer, [group(versions)], version, algo, {
            nCtx: 32,
            padId: 0,
            seed: 1,
            sampling: { temperature: 1, topP: 1 },
          });
          const kept = versions.filter((v) => version - v >= 0 && version - v <= maxLag).length;
          expect(res.rowsDroppedStale).toBe(versions.length - kept);
          expect(res.rows).toBe(kept);
          expect(trainer.rowsSeen).toBe(kept);
        },
      ),
      { numRuns: updateRuns, seed },
    );
  });
});
