import { describe, expect, it } from 'vitest';
import { buildPrompt, compactVocabulary, parseReflection } from '../../../actor/envs/prompt.js';
import { makeEnv } from '../../../actor/envs/registry.js';
import { scriptedAction, templateReflection } from '../../../actor/envs/scripted.js';
import type { EpisodeLog, MemoryMode, PromptContext, Template, TextEnv } from '../../../actor/envs/types.js';
import { createRng } from '../../../shared/rng.js';

function ctxOf(env: TextEnv, initialObs: string, over: Partial<PromptContext>): PromptContext {
  return {
    template: env.template,
    phase: 'play',
    memory: 'reflection',
    initialObs,
    episode: 0,
    turn: 0,
    current: { steps: [], won: false },
    past: [],
    ...over,
  };
}

const fakeSteps = (n: number, obs = (i: number) => `Row 1: obs${i}`) =>
  Array.from({ length: n }, (_, i) => ({ action: `(${i + 1}, 1)`, obs: obs(i + 1) }));

describe('full template: play prompts', () => {
  const env = makeEnv('minesweeper', { size: 8, mines: 5 });
  const initialObs = env.reset({ seed: 3 }).obs;

  it('states the env parameters and ends with the <action> instruction', () => {
    const p = buildPrompt(env, ctxOf(env, initialObs, {}));
    expect(p).toContain('8 by 8 grid with 5 hidden mines');
    expect(p).toContain(`The initial state of the game is:\n${initialObs}`);
    expect(p.trim().endsWith('inside <action> </action> tags.')).toBe(true);
  });

  it('words the current-episode block by (episode, turn) as the reference', () => {
    const steps = fakeSteps(2);
    const p00 = buildPrompt(env, ctxOf(env, initialObs, {}));
    expect(p00).not.toMatch(/already taken|trial #/);
    const p01 = buildPrompt(env, ctxOf(env, initialObs, { turn: 2, current: { steps, won: false } }));
    expect(p01).toContain('You have already taken these actions:\nAction 1: (1, 1)');
    expect(p01).not.toContain('trial #');
    const past = [{ steps, won: false, reflection: 'r1' }];
    const p10 = buildPrompt(env, ctxOf(env, initialObs, { episode: 1, past }));
    expect(p10).toContain('You are now on trial #2, starting again from the initial state.');
    const p11 = buildPrompt(env, ctxOf(env, initialObs, { episode: 1, turn: 2, past, current: { steps, won: false } }));
    expect(p11).toContain('You are now on trial #2. You have already taken these actions:\nAction 1: (1, 1)');
  });

  it('shows the last 7 turns of the current episode with observations only for the last 2', () => {
    const p = buildPrompt(env, ctxOf(env, initialObs, { turn: 9, current: { steps: fakeSteps(9), won: false } }));
    expect(p).not.toContain('Action 2:');
    expect(p).toContain('Action 3: (3, 1)\nObservation 3: ...');
    expect(p).toContain('Action 7: (7, 1)\nObservation 7: ...');
    expect(p).toContain('Action 8: (8, 1)\nObservation 8:\nRow 1: obs8');
    expect(p).toContain('Action 9: (9, 1)\nObservation 9:\nRow 1: obs9');
  });

  it('memory modes: reflection only, trajectory only, or both, for every earlier trial', () => {
    const past: EpisodeLog[] = [
      { steps: fakeSteps(3, (i) => `Row 1: a${i}`), won: false, reflection: 'first lesson' },
      { steps: fakeSteps(2, (i) => `Row 1: b${i}`), won: false, reflection: '' },
    ];
    const build = (memory: MemoryMode) => buildPrompt(env, ctxOf(env, initialObs, { memory, episode: 2, past }));
    const refl = build('reflection');
    expect(refl).toContain('On trial #1 the task was NOT completed. Your reflection on that trial:\nfirst lesson');
    // The empty block is kept.
    expect(refl).toContain('On trial #2 the task was NOT completed. Your reflection on that trial:\n');
    expect(refl).not.toContain('Action 1:');
    const traj = build('trajectory');
    expect(traj).toContain('On trial #1 you took these actions:\nAction 1: (1, 1)\nObservation 1: ...');
    expect(traj).toContain('Observation 3:\nRow 1: a3\nThe task was NOT completed.');
    expect(traj).not.toContain('first lesson');
    const both = build('both');
    expect(both).toContain(
      'Observation 3:\nRow 1: a3\nThe task was NOT completed. Your reflection on that trial:\nfirst lesson',
    );
    expect(both).toContain('You are now on trial #3');
    // Without a reflect phase (reflection undefined) the block only states the failure.
    const none = buildPrompt(
      env,
      ctxOf(env, initialObs, { memory: 'reflection', episode: 1, past: [{ steps: fakeSteps(1), won: false }] }),
    );
    expect(none).toContain('On trial #1 the task was NOT completed.\n\nYou are now on trial #2');
    expect(none).not.toContain('Your reflection');
  });

  it('Sokoban asks for THREE comma-separated actions by default and ONE with movesPerTurn 1', () => {
    const s3 = makeEnv('sokoban');
    const o3 = s3.reset({ seed: 1 }).obs;
    const p3 = buildPrompt(s3, ctxOf(s3, o3, {}));
    expect(p3).toContain('choose your next THREE actions');
    expect(p3).toContain('three admissible actions inside <action> </action> tags, separated by commas');
    expect(p3).toContain('Box on target (`√`)');
    const s1 = makeEnv('sokoban', { movesPerTurn: 1 });
    const p1 = buildPrompt(s1, ctxOf(s1, s1.reset({ seed: 1 }).obs, {}));
    expect(p1).toContain('choose your next ONE action.');
  });
});

describe('full template: reflect prompts', () => {
  it('show only the episode just finished, with every observation of the last 7 turns', () => {
    const env = makeEnv('minesweeper');
    const initialObs = env.reset({ seed: 3 }).obs;
    const finished: EpisodeLog = { steps: fakeSteps(8, (i) => `Row 1: f${i}`), won: false };
    const older: EpisodeLog = { steps: fakeSteps(1, () => 'Row 1: OLD'), won: false, reflection: 'OLD LESSON' };
    const p = buildPrompt(
      env,
      ctxOf(env, initialObs, { phase: 'reflect', episode: 2, current: finished, past: [older] }),
    );
    expect(p).toContain('# Your Task');
    expect(p).toContain(`# Past Experience\nThe initial state of the game is:\n${initialObs}`);
    expect(p).toContain('On trial #2 you took these actions:');
    expect(p).not.toContain('Action 1:');
    expect(p).toContain('Action 2: (2, 1)\nObservation 2:\nRow 1: f2');
    expect(p).toContain('Observation 8:\nRow 1: f8\nThe task was NOT completed.');
    expect(p).not.toMatch(/OLD/);
    expect(p.trim().endsWith('they will guide your next trial.')).toBe(true);
    expect(p).toContain('<remark> </remark>');
  });
});

describe('compact template', () => {
  function trialPrompts(id: string, memory: MemoryMode, seed: number): string[] {
    const env = makeEnv(id, { template: 'compact' });
    const initialObs = env.reset({ seed }).obs;
    const past: EpisodeLog[] = [];
    const prompts: string[] = [];
    for (let ep = 0; ep < 3; ep++) {
      if (ep > 0) {
        const fin = past[past.length - 1];
        prompts.push(
          buildPrompt(env, {
            template: 'compact',
            phase: 'reflect',
            memory,
            initialObs,
            episode: ep,
            turn: 0,
            current: fin,
            past: past.slice(0, -1),
          }),
        );
        fin.reflection = parseReflection(
          env.id,
          'compact',
          templateReflection(env, 'compact', initialObs, fin),
        ).reflection;
        env.restart();
      }
      const cur: EpisodeLog = { steps: [], won: false };
      const rng = createRng(seed + ep);
      for (let turn = 0; turn < 7; turn++) {
        prompts.push(
          buildPrompt(env, {
            template: 'compact',
            phase: 'play',
            memory,
            initialObs,
            episode: ep,
            turn,
            current: cur,
            past,
          }),
        );
        const r = env.step(scriptedAction(env, 'compact', rng, { noise: 0.6 }));
        cur.steps.push({ action: r.info.actionText, obs: r.obs });
        if (r.terminated || r.truncated) break;
      }
      past.push(cur);
    }
    return prompts;
  }

  it('uses only vocabulary words, single spaces, and ends with the opening tag word', () => {
    for (const id of ['lamer/Sokoban-v0', 'lamer/MineSweeper-v0']) {
      const vocab = new Set(compactVocabulary(id));
      for (const memory of ['reflection', 'trajectory', 'both'] as const) {
        for (let seed = 0; seed < 15; seed++) {
          for (const p of trialPrompts(id, memory, seed)) {
            expect(p).not.toMatch(/\s{2}|\n/);
            const words = p.split(' ');
            const unknown = words.filter((w) => !vocab.has(w));
            expect(unknown).toEqual([]);
            expect(['<action>', '<remark>']).toContain(words[words.length - 1]);
          }
        }
      }
    }
  });

  it('valid compact responses (scripted actions and reflections) use only vocabulary words', () => {
    for (const id of ['lamer/Sokoban-v0', 'lamer/MineSweeper-v0']) {
      const vocab = new Set(compactVocabulary(id));
      const env = makeEnv(id, { template: 'compact' });
      for (let seed = 0; seed < 30; seed++) {
        const initialObs = env.reset({ seed }).obs;
        const rng = createRng(seed);
        const log: EpisodeLog = { steps: [], won: false };
        for (let t = 0; t < 10; t++) {
          const resp = scriptedAction(env, 'compact', rng, { noise: 0.7 });
          for (const w of resp.split(' ')) expect(vocab.has(w)).toBe(true);
          const r = env.step(resp);
          expect(r.info.valid).toBe(true);
          log.steps.push({ action: r.info.actionText, obs: r.obs });
          if (r.terminated || r.truncated) break;
        }
        const refl = templateReflection(env, 'compact', initialObs, log);
        for (const w of refl.split(' ')) expect(vocab.has(w)).toBe(true);
        expect(parseReflection(id, 'compact', refl).valid).toBe(true);
      }
    }
  });

  const staysShort =
    'stays short: a 6x6 MineSweeper play prompt with 2 reflections and a 3-turn window is well under 200 words';
  it(staysShort, () => {
    const env = makeEnv('minesweeper', { template: 'compact' });
    const initialObs = env.reset({ seed: 1 }).obs;
    const steps = fakeSteps(5).map((s) => ({ ...s, obs: initialObs }));
    const past: EpisodeLog[] = [
      { steps, won: false, reflection: 'mine 4 5 safe 2 3 safe 1 1' },
      { steps, won: false, reflection: 'mine 2 2 safe 6 6' },
    ];
    const p = buildPrompt(env, {
      template: 'compact',
      phase: 'play',
      memory: 'reflection',
      initialObs,
      episode: 2,
      turn: 5,
      current: { steps, won: false },
      past,
    });
    expect(p.split(' ').length).toBeLessThan(100);
    const both = buildPrompt(env, {
      template: 'compact',
      phase: 'play',
      memory: 'both',
      initialObs,
      episode: 2,
      turn: 5,
      current: { steps, won: false },
      past,
    });
    expect(both.split(' ').length).toBeLessThan(150);
    // 3-turn window: only the last three actions of the current episode.
    expect(p.endsWith('<trial> 3 <hist> 3 1 , 4 1 , 5 1 </hist> <action>')).toBe(true);
    expect(p).toContain('<trial> 1 <mem> mine 4 5 safe 2 3 safe 1 1 </mem> <trial> 2 <mem> mine 2 2 safe 6 6 </mem>');
  });

  it('memory modes pick <mem> reflections, past <hist> trajectories, or both', () => {
    const env = makeEnv('minesweeper', { template: 'compact' });
    const initialObs = env.reset({ seed: 1 }).obs;
    const past: EpisodeLog[] = [{ steps: fakeSteps(2), won: false, reflection: 'mine 1 1' }];
    const p = (memory: MemoryMode) =>
      buildPrompt(env, {
        template: 'compact',
        phase: 'play',
        memory,
        initialObs,
        episode: 1,
        turn: 0,
        current: { steps: [], won: false },
        past,
      });
    expect(p('reflection')).toContain('<trial> 1 <mem> mine 1 1 </mem> <trial> 2 <hist> </hist>');
    expect(p('trajectory')).toContain('<trial> 1 <hist> 1 1 , 2 1 </hist> <trial> 2 <hist> </hist>');
    expect(p('both')).toContain('<trial> 1 <hist> 1 1 , 2 1 </hist> <mem> mine 1 1 </mem> <trial> 2');
    const noReflect = buildPrompt(env, {
      template: 'compact',
      phase: 'play',
      memory: 'reflection',
      initialObs,
      episode: 1,
      turn: 0,
      current: { steps: [], won: false },
      past: [{ steps: fakeSteps(2), won: false }],
    });
    expect(noReflect).toContain('<trial> 1 <trial> 2 <hist> </hist>');
  });

  const memoryOnBoard =
    "MineSweeper draws the cells the policy's own reflections name as mines onto the current board " +
    '(option memoryOnBoard)';
  it(memoryOnBoard, () => {
    const initialObs = makeEnv('minesweeper', { template: 'compact' }).reset({ seed: 1 }).obs;
    const rows = initialObs.split('\n').map((l) =>
      l
        .replace(/^\s*Row \d+:/, '')
        .trim()
        .split(/\s+/),
    );
    const hidden: Array<[number, number]> = [];
    const open: Array<[number, number]> = [];
    rows.forEach((r, i) => r.forEach((c, j) => (c === '?' ? hidden : open).push([i + 1, j + 1])));
    const [h1, h2] = hidden;
    const o = open[0];
    const past: EpisodeLog[] = [
      { steps: fakeSteps(2), won: false, reflection: `mine ${h1[0]} ${h1[1]} safe ${h2[0]} ${h2[1]}` },
      { steps: fakeSteps(2), won: false, reflection: `mine ${o[0]} ${o[1]}` }, // names an open cell: nothing to draw
    ];
    const ctx = (memory: MemoryMode, phase: 'play' | 'reflect' = 'play') => ({
      template: 'compact' as const,
      phase,
      memory,
      initialObs,
      episode: 2,
      turn: 0,
      current: { steps: [], won: false },
      past,
    });
    // Header 3 words, <board>, 6 cells + <nl> per row.
    const cellAt = (p: string, [r, c]: [number, number]) => p.split(' ')[4 + (r - 1) * 7 + (c - 1)];
    const drawn = buildPrompt(makeEnv('minesweeper', { template: 'compact' }), ctx('reflection'));
    const text = buildPrompt(makeEnv('minesweeper', { template: 'compact', memoryOnBoard: false }), ctx('reflection'));
    expect(cellAt(drawn, h1)).toBe('mine');
    expect(cellAt(text, h1)).toBe('?');
    expect(cellAt(drawn, h2)).toBe('?'); // "safe" is not drawn
    expect(cellAt(drawn, o)).toBe(rows[o[0] - 1][o[1] - 1]);
    expect(drawn.split(' ').filter((w) => w === 'mine')).toHaveLength(3); // the board cell + the two <mem> clauses
    expect(drawn.split(' ').length).toBe(text.split(' ').length); // the cell is replaced, positions stay fixed
    // The text memory stays; trajectory-only memory has no reflection to draw; reflect prompts and the full template
    // are untouched.
    expect(drawn).toContain(`<mem> mine ${h1[0]} ${h1[1]} safe ${h2[0]} ${h2[1]} </mem>`);
    expect(cellAt(buildPrompt(makeEnv('minesweeper', { template: 'compact' }), ctx('trajectory')), h1)).toBe('?');
    expect(buildPrompt(makeEnv('minesweeper', { template: 'compact' }), ctx('reflection', 'reflect'))).toBe(
      buildPrompt(makeEnv('minesweeper', { template: 'compact', memoryOnBoard: false }), ctx('reflection', 'reflect')),
    );
    const full = (memoryOnBoard: boolean) =>
      buildPrompt(makeEnv('minesweeper', { memoryOnBoard }), { ...ctx('reflection'), template: 'full' as const });
    expect(full(true)).toBe(full(false));
  });

  it('play prompt puts the current board right after the header, so every cell has a fixed position', () => {
    const env = makeEnv('minesweeper', { template: 'compact' });
    const initialObs = env.reset({ seed: 1 }).obs;
    const later = initialObs.replace('?', '1');
    const fresh = buildPrompt(env, {
      template: 'compact',
      phase: 'play',
      memory: 'reflection',
      initialObs,
      episode: 0,
      turn: 0,
      current: { steps: [], won: false },
      past: [],
    });
    const withMemory = buildPrompt(env, {
      template: 'compact',
      phase: 'play',
      memory: 'both',
      initialObs,
      episode: 2,
      turn: 2,
      current: {
        steps: [
          { action: '(1, 1)', obs: later },
          { action: '(2, 2)', obs: later },
        ],
        won: false,
      },
      past: [
        { steps: fakeSteps(4), won: false, reflection: 'mine 4 5' },
        { steps: fakeSteps(2), won: false, reflection: 'mine 2 2' },
      ],
    });
    const boardOf = (p: string) => p.split(' ').slice(0, 3 + 43);
    expect(boardOf(fresh)[3]).toBe('<board>');
    expect(boardOf(fresh)[45]).toBe('</board>');
    expect(boardOf(withMemory)[45]).toBe('</board>');
    // The play board is the latest observation, not the initial one.
    expect(boardOf(withMemory).join(' ')).not.toBe(boardOf(fresh).join(' '));
    expect(boardOf(withMemory)[4]).toBe(
      later
        .replace(/^\s*Row \d+:/, '')
        .trim()
        .split(/\s+/)[0],
    );
  });

  it('reflect prompt shows the final board, the actions and the initial board, then <remark>', () => {
    const env = makeEnv('minesweeper', { template: 'compact' });
    const initialObs = env.reset({ seed: 1 }).obs;
    const finished: EpisodeLog = {
      steps: [
        { action: 'no operation', obs: initialObs },
        { action: '(2, 3)', obs: initialObs.replace('?', '*') },
      ],
      won: false,
    };
    const p = buildPrompt(env, {
      template: 'compact',
      phase: 'reflect',
      memory: 'reflection',
      initialObs,
      episode: 1,
      turn: 0,
      current: finished,
      past: [],
    });
    expect(p.startsWith('minesweeper mines 3 <reflect> <trial> 1 <board> * ')).toBe(true);
    expect(p).toContain('</board> <hist> none , 2 3 </hist> <board> ?');
    expect(p.endsWith('</board> <remark>')).toBe(true);
  });
});

describe('prompt argument checks', () => {
  it('rejects a template that differs from the env, unknown envs and bad contexts', () => {
    const env = makeEnv('sokoban');
    const initialObs = env.reset({ seed: 0 }).obs;
    expect(() => buildPrompt(env, ctxOf(env, initialObs, { template: 'compact' }))).toThrow(
      /does not match the env's template 'full'/,
    );
    expect(() => buildPrompt('lamer/Chess-v0', ctxOf(env, initialObs, {}))).toThrow(
      /unknown environment 'lamer\/Chess-v0'/,
    );
    expect(() => buildPrompt(env, ctxOf(env, initialObs, { episode: -1 }))).toThrow(/episode/);
    expect(() => buildPrompt(env, ctxOf(env, initialObs, { memory: 'all' as MemoryMode }))).toThrow(
      /memory mode 'all'/,
    );
    expect(() => buildPrompt(env, ctxOf(env, '', {}))).toThrow(/initialObs/);
    expect(buildPrompt('sokoban', ctxOf(env, initialObs, { template: 'full' as Template }))).toContain('THREE');
  });
});

describe('parseReflection', () => {
  it('Sokoban uses the first <remark> and the first </remark>; MineSweeper the last of each', () => {
    const text = 'x <remark> one </remark> y <remark> two </remark>';
    expect(parseReflection('sokoban', 'full', text)).toEqual({ reflection: 'one', valid: true });
    expect(parseReflection('minesweeper', 'full', text)).toEqual({ reflection: 'two', valid: true });
  });
  it('a missing tag is an invalid turn with an empty reflection', () => {
    for (const id of ['sokoban', 'minesweeper']) {
      expect(parseReflection(id, 'full', 'no tags at all')).toEqual({ reflection: '', valid: false });
      expect(parseReflection(id, 'full', '<remark> open only')).toEqual({ reflection: '', valid: false });
      expect(parseReflection(id, 'full', '<REMARK>x</REMARK>')).toEqual({ reflection: '', valid: false });
    }
  });
  it('trims, keeps at most 2000 characters, and treats a closing tag before the opening one as empty', () => {
    const long = 'a'.repeat(2500);
    expect(parseReflection('sokoban', 'full', `<remark>\n  ${long}  </remark>`).reflection).toBe('a'.repeat(2000));
    expect(parseReflection('sokoban', 'full', '</remark> x <remark>')).toEqual({ reflection: '', valid: true });
  });
  it('compact: grammar per env, closing tag required, empty allowed', () => {
    const ok = (id: string, s: string) => parseReflection(id, 'compact', s);
    expect(ok('minesweeper', 'mine 4 5 safe 2 3 </remark>')).toEqual({ reflection: 'mine 4 5 safe 2 3', valid: true });
    expect(ok('minesweeper', ' </remark>')).toEqual({ reflection: '', valid: true });
    for (const bad of [
      'mine 4 5',
      'mine 4 </remark>',
      'mine 0 5 </remark>',
      'boom 1 1 </remark>',
      'mine 40 1 </remark>',
    ]) {
      expect(ok('minesweeper', bad).valid).toBe(false);
    }
    expect(ok('sokoban', 'avoid left plan up up right </remark>')).toEqual({
      reflection: 'avoid left plan up up right',
      valid: true,
    });
    for (const bad of ['plan </remark>', 'avoid </remark>', 'avoid still </remark>', 'up up </remark>', 'plan up']) {
      expect(ok('sokoban', bad).valid).toBe(false);
    }
    const many = Array.from({ length: 400 }, () => 'safe 1 1').join(' ');
    const capped = ok('minesweeper', `${many} </remark>`);
    expect(capped.valid).toBe(true);
    expect(capped.reflection.length).toBeLessThanOrEqual(2000);
    expect(capped.reflection.split(' ').length % 3).toBe(0);
  });
});

describe('compactVocabulary', () => {
  it('holds markers, numbers and env words, sorted and unique', () => {
    const v = compactVocabulary('minesweeper');
    expect(v).toEqual([...new Set(v)].sort());
    for (const w of [
      '<board>',
      '<nl>',
      '<mem>',
      '<hist>',
      '<trial>',
      '<action>',
      '</action>',
      '<remark>',
      '</remark>',
      '0',
      '32',
      '?',
      '.',
      '*',
      'mine',
      'safe',
      'none',
    ]) {
      expect(v).toContain(w);
    }
    const s = compactVocabulary('sokoban');
    for (const w of ['#', '_', 'O', 'X', 'P', '√', 'S', 'up', 'down', 'left', 'right', 'still', 'plan', 'avoid'])
      expect(s).toContain(w);
    expect(s).not.toContain('mine');
  });
});
