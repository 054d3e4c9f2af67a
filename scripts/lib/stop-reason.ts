/**
 * The exit status of a training command from why its learner stopped (docs/long-runs.md §4): a run never
 * exits 0 having trained nothing because its budget was already spent.
 */
import type { LearnerSummary } from '../../learner/runtime.js';

export const EXIT_BUDGET_SPENT = 3;

export function exitForStop(summary: Pick<LearnerSummary, 'stoppedBy' | 'policyVersion'>): void {
  if (summary.stoppedBy !== 'budget-spent') return;
  process.stderr.write(
    'lamer: nothing to train: the run is already at policy ' +
      `v${summary.policyVersion} = run.iterations; raise --iterations to continue\n`,
  );
  process.exitCode = EXIT_BUDGET_SPENT;
}
