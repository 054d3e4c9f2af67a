/** Fakes shared by the learner component tests: connections that record what they were sent, a silent logger. */
import type { Lease } from '../../proto/messages.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { resolveConfig, type Config } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import type { ActorConnection } from '../../learner/server.js';

export const silent = createLogger({ level: 'silent' });

export function fakeConn(actorId: string, incarnation = 'inc-a'): ActorConnection & { sent: Lease[] } {
  const sent: Lease[] = [];
  return {
    id: Math.floor(Math.random() * 1e9),
    actorId,
    incarnation,
    remoteAddress: '127.0.0.1',
    bufferedAmount: 0,
    isOpen: true,
    initialPolicy: { learnerEpoch: 0, policyVersion: 0 },
    trialsInFlight: 0,
    sent,
    hello: {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      runId: 'r',
      actorId,
      incarnation,
      lastPolicyVersion: -1,
      lastLearnerEpoch: -1,
    },
    send: (m: { type: string }) => {
      if (m.type === 'lease') sent.push(m as Lease);
      return true;
    },
  } as unknown as ActorConnection & { sent: Lease[] };
}

export function config(over: Record<string, unknown> = {}): Config {
  return resolveConfig({ env: { groupSize: 2 }, run: { evalTasks: 3 }, algo: { groupsPerUpdate: 2 }, ...over });
}
