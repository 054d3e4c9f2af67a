/**
 * Writes the learner's checkpoint: model weights, optimizer state and tokenizer (shared/model's files) plus the
 * durable learner state (`learner.json`: task book, ledger offset, counters, evaluations), through the atomic
 * checkpoint store.
 */
import { withDeadline } from '../shared/deadline.js';
import type { Logger } from '../shared/logger.js';
import type { AdamWState } from '../shared/model/adamw.js';
import { serializeModel } from '../shared/model/checkpoint-files.js';
import type { ModelConfig } from '../shared/model/config.js';
import type { WordTokenizer } from '../shared/model/tokenizer.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { type LearnerState, STATE_FILE } from './run-state.js';

export interface CheckpointModel {
  config: ModelConfig;
  params: Float32Array;
  optimizer: AdamWState;
  tokenizer: WordTokenizer;
}

export class Checkpointer {
  /** `timeoutMs`: deadline of one save (writes + fsyncs); past it the save rejects with the reason logged. */
  constructor(
    private readonly store: CheckpointStore,
    private readonly logger: Logger,
    private readonly timeoutMs = 0,
  ) {}

  /**
   * Saves `state` (already updated with the task book snapshot and ledger offset) with the model. `replayFrom`
   * is the lowest ledger offset a resume from this checkpoint reads (ledger retention keeps everything after it).
   */
  async save(state: LearnerState, model: CheckpointModel, replayFrom: number): Promise<string> {
    const files = serializeModel(model);
    files.set(STATE_FILE, Buffer.from(JSON.stringify(state)));
    const dir = await withDeadline(
      this.store.save(state.policyVersion, files, {
        policyVersion: state.policyVersion,
        learnerEpoch: state.learnerEpoch,
        ledgerOffset: state.ledgerOffset,
        runId: state.runId,
        replayFrom,
      }),
      this.timeoutMs,
      `checkpoint save of policy v${state.policyVersion}`,
      (e) =>
        this.logger.error(
          { policyVersion: state.policyVersion, ms: e.ms },
          'checkpoint save missed its deadline (stuck disk?); stopping',
        ),
    );
    this.logger.info({ dir, policyVersion: state.policyVersion }, 'checkpoint saved');
    return dir;
  }
}
