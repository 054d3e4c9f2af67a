import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReflection } from '../../../actor/envs/prompt.js';
import { makeEnv } from '../../../actor/envs/registry.js';

// Model output is arbitrary text: stepping must never throw, and a reply without the tags is always invalid.
const tagged = fc.oneof(
  fc.string(),
  fc.string().map((s) => `<action>${s}</action>`),
  fc.tuple(fc.string(), fc.string(), fc.string()).map(([a, b, c]) => `${a}<action>${b}</action>${c}`),
  fc.string().map((s) => `${s} </action>`),
  fc.constantFrom(
    '<action></action>',
    '</action>',
    '<action>',
    '<action>(,)</action>',
    '<action>(1,)</action>',
    '\u0000',
    '<action>(1e3, 2)</action>',
  ),
);

describe('malformed model outputs', () => {
  for (const id of ['sokoban', 'minesweeper']) {
    for (const template of ['full', 'compact'] as const) {
      it(`${id}/${template}: step() accepts any text; untagged text is invalid and costs the invalid reward`, () => {
        const env = makeEnv(id, { template });
        fc.assert(
          fc.property(tagged, (text) => {
            env.reset({ seed: 1 });
            const r = env.step(text);
            expect(typeof r.info.valid).toBe('boolean');
            expect(Number.isFinite(r.reward)).toBe(true);
            const closes = text.includes('</action>');
            const opens = text.includes('<action>');
            const hasTags = template === 'compact' ? closes : closes && opens;
            if (!hasTags) {
              expect(r.info.valid).toBe(false);
              expect(r.reward).toBe(id === 'sokoban' ? -0.1 : -1);
            }
          }),
          { numRuns: 300 },
        );
      });
    }
    it(`${id}: parseReflection accepts any text and caps at 2000 characters`, () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 3000 }), fc.string({ maxLength: 3000 }), (a, b) => {
          for (const template of ['full', 'compact'] as const) {
            const r = parseReflection(id, template, `${a}<remark>${b}</remark>`);
            expect(r.reflection.length).toBeLessThanOrEqual(2000);
            if (!r.valid) expect(r.reflection).toBe('');
          }
          expect(parseReflection(id, 'full', a.replaceAll('<remark>', '').replaceAll('</remark>', '')).valid).toBe(
            false,
          );
        }),
        { numRuns: 200 },
      );
    });
  }
});
