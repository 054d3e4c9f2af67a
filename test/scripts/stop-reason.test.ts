import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT_BUDGET_SPENT, exitForStop } from '../../scripts/lib/stop-reason.js';

afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe('exit status from the stop reason', () => {
  it('a run whose budget was already spent exits 3 and says why; other reasons leave the exit code alone', () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const stoppedBy of ['iterations', 'minutes', 'signal'] as const) {
      exitForStop({ stoppedBy, policyVersion: 5 });
      expect(process.exitCode).toBeUndefined();
    }
    expect(err).not.toHaveBeenCalled();
    exitForStop({ stoppedBy: 'budget-spent', policyVersion: 150 });
    expect(process.exitCode).toBe(EXIT_BUDGET_SPENT);
    expect(EXIT_BUDGET_SPENT).toBe(3);
    expect(String(err.mock.calls[0][0])).toMatch(/^lamer: nothing to train: the run is already at policy v150/);
  });
});
