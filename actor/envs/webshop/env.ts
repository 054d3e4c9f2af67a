/**
 * WebShop as a text environment (docs/method.md §6.3, §9). A task seed picks one goal of the catalogue
 * (train seeds < 2^16 → training goals, larger seeds → the 500 validation goals); the goal is stored, so
 * `restart()` always replays the same goal (the reference silently switches goals after a failed purchase).
 * Reward as LaMer trains: 10 when the purchase scores 1.0 (won), else 0; the raw WebShop score is
 * `info.taskScore` on the purchase step. Only `click[buy now]` ends an episode (terminated); `maxSteps` is a
 * safety truncation for unbounded callers (LaMer caps turns in the trial runner instead).
 */
import { z } from 'zod';
import { LamerError, badInput } from '../../../shared/errors.js';
import { checkSeed, intIn, parseEnvOptions, templateOption } from '../options.js';
import type { StepResult, Template, TextEnv } from '../types.js';
import {
  DEFAULT_VAL_GOALS,
  goalIndexForSeed,
  goalSplit,
  goalTarget,
  searchEngineFor,
  syntheticCatalogue,
} from './catalogue.js';
import { cachedWebShopData } from './loader.js';
import { COMPACT_MAX_CHOICES, parseCompactAction, parseFullAction, splitAction } from './parse.js';
import { WebShopSite, initialSiteState, type SiteState } from './site.js';
import type { Catalogue, Goal } from './types.js';

export const WEBSHOP_ID = 'lamer/WebShop-v0';

export const WebShopOptionsSchema = z.strictObject({
  template: templateOption.describe('prompt/response template'),
  products: intIn(2, 200_000).default(1000).describe('products in the synthetic catalogue'),
  catalogSeed: intIn(0, 2 ** 32 - 1)
    .default(0)
    .describe('seed of the synthetic catalogue'),
  dataDir: z
    .string()
    .min(1)
    .optional()
    .describe('directory with the original WebShop data files (replaces the synthetic catalogue)'),
  fullData: z
    .boolean()
    .default(false)
    .describe('with dataDir: read items_shuffle.json/items_ins_v2.json instead of the *_1000 files'),
  valGoals: intIn(0, 1_000_000)
    .default(DEFAULT_VAL_GOALS)
    .describe('validation goals at the head of the shuffled goal list'),
  goalIndex: intIn(0, 10_000_000).optional().describe('play this goal index regardless of the reset seed'),
  showAttrs: z.boolean().default(false).describe('show the Attributes button on item pages'),
  maxSteps: intIn(1, 100_000).default(100).describe('steps per episode before truncation (safety cap)'),
});
export type WebShopOptions = z.input<typeof WebShopOptionsSchema>;

const WIN_REWARD = 10;

export class WebShopEnv implements TextEnv {
  readonly id = WEBSHOP_ID;
  readonly template: Template;
  readonly params: Readonly<{
    template: Template;
    products: number;
    catalogSeed: number;
    dataDir: string | null;
    valGoals: number;
    showAttrs: boolean;
    maxSteps: number;
    goals: number;
  }>;
  readonly catalogue: Catalogue;
  private site?: WebShopSite;
  private goalIdx = -1;
  /** The last observation returned (reset or step): the GiGPO anchor. */
  private lastObs = '';
  private seed = -1;
  private steps = 0;
  private over = true;
  private closed = false;
  private readonly fixedGoal?: number;

  constructor(options: WebShopOptions = {}) {
    const o = parseEnvOptions(WEBSHOP_ID, WebShopOptionsSchema, options);
    this.catalogue =
      o.dataDir !== undefined
        ? cachedWebShopData(o.dataDir, { full: o.fullData, seed: o.catalogSeed, valGoals: o.valGoals })
        : syntheticCatalogue(o.catalogSeed, o.products, o.valGoals);
    if (o.goalIndex !== undefined && o.goalIndex >= this.catalogue.goals.length) {
      throw badInput(
        `${WEBSHOP_ID}: option 'goalIndex' ${o.goalIndex} is out of range ` +
          `(the catalogue has ${this.catalogue.goals.length} goals)`,
      );
    }
    this.fixedGoal = o.goalIndex;
    this.template = o.template;
    this.params = Object.freeze({
      template: o.template,
      products: this.catalogue.products.length,
      catalogSeed: o.catalogSeed,
      dataDir: o.dataDir ?? null,
      valGoals: this.catalogue.valGoals,
      showAttrs: o.showAttrs,
      maxSteps: o.maxSteps,
      goals: this.catalogue.goals.length,
    });
  }

  reset(opts: { seed: number }): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    const seed = checkSeed(this.id, opts?.seed);
    this.goalIdx = this.fixedGoal ?? goalIndexForSeed(this.catalogue, seed);
    const goal = this.catalogue.goals[this.goalIdx];
    this.site = new WebShopSite(
      this.catalogue,
      searchEngineFor(this.catalogue),
      goal,
      goalTarget(this.catalogue, goal).titleNouns,
      this.params.showAttrs,
    );
    this.seed = seed;
    return this.restart();
  }

  restart(): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    const site = this.requireSite();
    site.state = initialSiteState();
    this.steps = 0;
    this.over = false;
    this.lastObs = initialObservation(this.instruction, site.observation());
    return {
      obs: this.lastObs,
      info: {
        won: false,
        seed: this.seed,
        goalIndex: this.goalIdx,
        split: goalSplit(this.catalogue, this.goalIdx),
        instruction: this.instruction,
      },
    };
  }

  step(response: string): StepResult {
    this.ensureOpen();
    const site = this.requireSite();
    if (this.over)
      throw new LamerError('RL_ERR_INTERNAL', `${this.id}: step() after the episode ended; call restart() or reset()`);
    const parsed =
      this.template === 'compact'
        ? parseCompactAction(String(response), this.admissibleActions())
        : parseFullAction(String(response));
    const { name, arg } = splitAction(parsed.action);
    let score = 0;
    let done = false;
    let executed = false;
    if (name === 'search' && arg !== null && arg !== '') {
      site.search(arg.toLowerCase());
      executed = true;
    } else if (name === 'click' && arg !== null) {
      const target = arg.toLowerCase();
      if (target !== 'search' && site.clickables().has(target)) {
        ({ score, done } = site.click(target));
        executed = true;
      }
    }
    this.steps++;
    const won = done && score === 1;
    const truncated = !done && this.steps >= this.params.maxSteps;
    this.over = done || truncated;
    const reward = won ? WIN_REWARD : 0;
    this.lastObs = site.observation();
    return {
      obs: this.lastObs,
      reward,
      terminated: done,
      truncated,
      info: {
        won,
        valid: parsed.valid,
        actionText: this.template === 'compact' && !parsed.valid ? 'invalid' : parsed.action,
        executed,
        page: site.state.page,
        ...(done ? { taskScore: score, purchase: site.state.purchase } : {}),
        ...(this.over ? { episode: { r: reward, l: this.steps } } : {}),
      },
    };
  }

  /** LaMer's admissible-action list of the current page (`search[<your query>]`, then `click[...]` items). */
  admissibleActions(): string[] {
    return this.requireSite().availableActions();
  }

  /** The choices a compact prompt offers (the admissible actions, capped). */
  compactChoices(): string[] {
    return this.admissibleActions().slice(0, COMPACT_MAX_CHOICES);
  }

  /** The task sentence (goal instruction text). */
  get instruction(): string {
    return this.goal().instructionText;
  }

  /** The current goal: what the instruction states (attributes, options, price bound) and its target product. */
  goal(): Goal {
    if (this.goalIdx < 0) throw notReset();
    return this.catalogue.goals[this.goalIdx];
  }

  get goalIndex(): number {
    return this.goalIdx;
  }

  /** The last observation returned, as LaMer's anchor (the first one carries the instruction). */
  anchor(): string {
    this.requireSite();
    return this.lastObs;
  }

  render(): string {
    return initialObservation(this.instruction, this.requireSite().observation());
  }

  close(): void {
    this.closed = true;
  }

  get episodeOver(): boolean {
    return this.over;
  }

  /** Read-only view of the site state for scripted policies, checkers and tests. */
  snapshot(): { state: SiteState; goalIndex: number; steps: number } {
    return { state: structuredClone(this.requireSite().state), goalIndex: this.goalIdx, steps: this.steps };
  }

  /** The underlying site (scripted policies read the listed products through it). */
  siteView(): WebShopSite {
    return this.requireSite();
  }

  private requireSite(): WebShopSite {
    if (!this.site) throw notReset();
    return this.site;
  }

  private ensureOpen(): void {
    if (this.closed) throw new LamerError('RL_ERR_INTERNAL', `${this.id}: env is closed`);
  }
}

/**
 * The first observation of an episode: the search page with the instruction, as WebShop's text env shows it
 * (`WebShop [SEP] Instruction: [SEP] <text> [SEP] Search`). Later observations drop the instruction header, as
 * LaMer's env manager does.
 */
export function initialObservation(instruction: string, page: string): string {
  return `'WebShop' [SEP] 'Instruction:' [SEP] '${instruction}' [SEP] ${page}`;
}

/** The instruction inside an initial observation (null when `obs` is not one). */
export function instructionOf(obs: string): string | null {
  const m = /^'WebShop' \[SEP\] 'Instruction:' \[SEP\] '(.*)' \[SEP\] /s.exec(obs);
  return m ? m[1] : null;
}

function notReset(): LamerError {
  return new LamerError('RL_ERR_INTERNAL', `${WEBSHOP_ID}: call reset({ seed }) first`);
}
