/** The `lamer advantages` command end to end (a child process, as users run it). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'lamer-adv-'));
function run(doc: unknown, ...args: string[]) {
  const file = join(dir, `in-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'advantages', '--in', file, ...args], {
    encoding: 'utf8',
  });
}
const row = (episode: number, turn: number, reward: number, anchor: string, phase = 'play') => ({
  phase,
  episode,
  turn,
  reward,
  valid: true,
  anchor,
});
const example = {
  options: {
    estimator: 'gigpo',
    gammaStep: 0.95,
    gammaTraj: 0.6,
    omega: 1,
    norm: 'mean',
    invalidPenalty: 0.5,
    returns: 'code',
  },
  groups: [
    {
      groupId: 'g',
      trials: [
        {
          trialId: 'X',
          rows: [
            row(0, 0, -0.1, 's0'),
            row(0, 1, -0.1, 's1'),
            row(1, 0, 1, 'reflection', 'reflect'),
            row(1, 0, -0.1, 's0'),
            row(1, 1, 10.9, 's2'),
          ],
        },
        { trialId: 'Y', rows: [row(0, 0, -0.1, 's0'), row(0, 1, 10.9, 's2')] },
      ],
    },
  ],
};

describe('lamer advantages', () => {
  it('prints the documented JSON shape on stdout', () => {
    const r = run(example, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['groups']);
    expect(out.groups[0].groupId).toBe('g');
    expect(out.groups[0].trials.map((t: { trialId: string }) => t.trialId)).toEqual(['X', 'Y']);
    const x0 = out.groups[0].trials[0].rows[0];
    expect(Object.keys(x0)).toEqual(['G', 'episodeReward', 'advantage']);
    expect(x0.G).toBeCloseTo(5.65035, 9);
    expect(x0.advantage).toBeCloseTo(-0.2 - 42.8 / 7 + 5.65035 - 26.16035 / 3, 9);
  });

  it('exits non-zero naming the problem', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        {
          groups: [
            {
              groupId: 'g',
              trials: [{ trialId: 't', rows: [{ phase: 'play', episode: 0, turn: 0, valid: true, anchor: 'a' }] }],
            },
          ],
        },
        /groups\[0\]\.trials\[0\]\.rows\[0\]\.reward/,
      ],
      [{ ...example, options: { estimator: 'dapo' } }, /options\.estimator/],
      [
        { groups: [{ groupId: 'g', trials: [{ trialId: 't', rows: [row(0, 1, 0, 'a'), row(0, 0, 0, 'a')] }] }] },
        /group 'g' trial 't' row 1: out of chronological order/,
      ],
      ['{not json', /is not valid JSON/],
    ];
    for (const [doc, msg] of cases) {
      const r = run(doc, '--json');
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^lamer: error \[RL_ERR_BAD_INPUT\]: /);
      expect(r.stderr).toMatch(msg);
    }
  });
});
