/**
 * ALFWorld (TextWorld mode) as a text environment (docs/method.md §6.4). A task seed fixes the task type (training
 * seeds < 2^16: Pick/Look/Clean/Heat; larger seeds: all six types) and the household; `restart()` restores the
 * same household and task. Reward as LaMer trains: 10 on the step that satisfies the goal (won, terminated),
 * 0 otherwise; "Nothing happens." for commands the game cannot carry out. `maxSteps` (TextWorld's
 * max_nb_steps_per_episode, 50) truncates an episode. With `dataDir` the env plays original ALFWorld games
 * instead (loader.ts; game = seed mod the number of games found, sorted by path; `info.split` is 'data').
 */
import { z } from 'zod';
import { LamerError, badInput } from '../../../shared/errors.js';
import { checkSeed, intIn, parseEnvOptions, templateOption } from '../options.js';
import type { StepResult, Template, TextEnv } from '../types.js';
import { admissibleCommands, execute, initialObservation } from './engine.js';
import { generateHousehold } from './generate.js';
import { findGames, loadGame } from './loader.js';
import { ALFWORLD_MAX_CHOICES, parseAlfworldCompact, parseAlfworldFull } from './parse.js';
import type { AlfWorldState } from './state.js';
import { TASK_TYPES, alfworldSplit, goalSatisfied, type TaskType } from './tasks.js';

export const ALFWORLD_ID = 'lamer/ALFWorld-v0';

export const AlfWorldOptionsSchema = z.strictObject({
  template: templateOption.describe('prompt/response template'),
  scale: z
    .enum(['alfworld', 'small'])
    .default('alfworld')
    .describe("room size: ALFWorld-like counts, or 'small' (fewest receptacles and objects)"),
  maxSteps: intIn(1, 10_000)
    .default(50)
    .describe('commands per episode before truncation (TextWorld max_nb_steps_per_episode)'),
  taskType: z.enum(TASK_TYPES).optional().describe("force this task type instead of the seed's"),
  dataDir: z
    .string()
    .min(1)
    .optional()
    .describe('play original ALFWorld games found under this directory (game = seed mod count)'),
});
export type AlfWorldOptions = z.input<typeof AlfWorldOptionsSchema>;

const WIN_REWARD = 10;

export class AlfWorldEnv implements TextEnv {
  readonly id = ALFWORLD_ID;
  readonly template: Template;
  readonly params: Readonly<{
    template: Template;
    scale: 'alfworld' | 'small';
    maxSteps: number;
    taskType: TaskType | null;
    dataDir: string | null;
    games: number;
  }>;
  private readonly games: string[] | null;
  private initial?: AlfWorldState;
  private state?: AlfWorldState;
  private firstObs = '';
  private lastObs = '';
  private seed = -1;
  private steps = 0;
  private over = true;
  private closed = false;

  constructor(options: AlfWorldOptions = {}) {
    const o = parseEnvOptions(ALFWORLD_ID, AlfWorldOptionsSchema, options);
    if (o.dataDir !== undefined && o.taskType !== undefined) {
      throw badInput(
        `${ALFWORLD_ID}: options 'dataDir' and 'taskType' exclude each other (a game fixes its task type)`,
      );
    }
    this.games = o.dataDir !== undefined ? gamesUnder(o.dataDir) : null;
    this.template = o.template;
    this.params = Object.freeze({
      template: o.template,
      scale: o.scale,
      maxSteps: o.maxSteps,
      taskType: o.taskType ?? null,
      dataDir: o.dataDir ?? null,
      games: this.games?.length ?? 0,
    });
  }

  reset(opts: { seed: number }): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    const seed = checkSeed(this.id, opts?.seed);
    this.initial = this.games
      ? loadGame(this.games[seed % this.games.length], seed)
      : generateHousehold(seed, {
          scale: this.params.scale,
          ...(this.params.taskType ? { type: this.params.taskType } : {}),
        });
    this.firstObs = initialObservation(this.initial);
    this.seed = seed;
    return this.restart();
  }

  /** Starts from an explicit state (a loaded game or a test fixture) instead of a generated one. */
  resetToState(state: AlfWorldState, seed = 0): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    this.initial = structuredClone(state);
    this.firstObs = initialObservation(this.initial);
    this.seed = seed;
    return this.restart();
  }

  restart(): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    if (!this.initial) throw notReset();
    this.state = structuredClone(this.initial);
    this.steps = 0;
    this.over = false;
    this.lastObs = this.firstObs;
    return {
      obs: this.firstObs,
      info: {
        won: false,
        seed: this.seed,
        taskType: this.state.task.type,
        split: this.games ? 'data' : alfworldSplit(this.seed),
        task: this.state.task.text,
        ...(this.games ? { game: this.state.room } : {}),
      },
    };
  }

  step(response: string): StepResult {
    this.ensureOpen();
    const s = this.requireState();
    if (this.over)
      throw new LamerError('RL_ERR_INTERNAL', `${this.id}: step() after the episode ended; call restart() or reset()`);
    const parsed =
      this.template === 'compact'
        ? parseAlfworldCompact(String(response), this.compactChoices())
        : parseAlfworldFull(String(response));
    const obs = execute(s, parsed.command);
    this.steps++;
    const won = goalSatisfied(s);
    const truncated = !won && this.steps >= this.params.maxSteps;
    this.over = won || truncated;
    const reward = won ? WIN_REWARD : 0;
    this.lastObs = obs;
    return {
      obs,
      reward,
      terminated: won,
      truncated,
      info: {
        won,
        valid: parsed.valid,
        actionText: this.template === 'compact' && !parsed.valid ? 'invalid' : parsed.command,
        taskType: s.task.type,
        ...(this.over ? { episode: { r: reward, l: this.steps } } : {}),
      },
    };
  }

  /** Admissible commands of the current state (ALFWorld's list without `help`). */
  admissibleActions(): string[] {
    return admissibleCommands(this.requireState());
  }

  /** The choices a compact prompt offers (the admissible commands, capped). */
  compactChoices(): string[] {
    return this.admissibleActions().slice(0, ALFWORLD_MAX_CHOICES);
  }

  /** The first observation of the current task (room overview and "Your task is to: ..."). */
  get initialObs(): string {
    return this.firstObs;
  }

  get taskType(): TaskType {
    return this.requireState().task.type;
  }

  /** GiGPO anchor: the last observation text, as the reference uses it. */
  anchor(): string {
    this.requireState();
    return this.lastObs;
  }

  /** The last observation (the first observation right after reset/restart). */
  render(): string {
    this.requireState();
    return this.lastObs;
  }

  close(): void {
    this.closed = true;
  }

  get episodeOver(): boolean {
    return this.over;
  }

  /** A copy of the full state, for the planner, checkers and tests. */
  snapshot(): AlfWorldState {
    return structuredClone(this.requireState());
  }

  private requireState(): AlfWorldState {
    if (!this.state) throw notReset();
    return this.state;
  }

  private ensureOpen(): void {
    if (this.closed) throw new LamerError('RL_ERR_INTERNAL', `${this.id}: env is closed`);
  }
}

function notReset(): LamerError {
  return new LamerError('RL_ERR_INTERNAL', `${ALFWORLD_ID}: call reset({ seed }) first`);
}

const gameLists = new Map<string, string[]>();

/** Game directories under a data root (listed once per process). */
function gamesUnder(dir: string): string[] {
  let g = gameLists.get(dir);
  if (!g) {
    g = findGames(dir);
    gameLists.set(dir, g);
  }
  return g;
}
