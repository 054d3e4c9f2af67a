/** The hello checks and one session per actor: supersede, fencing and its memory bound. */
import { describe, expect, it } from 'vitest';
import { zeroMetrics } from '../../../learner/server/metrics.js';
import { FENCE_MEMORY, Sessions, type SessionPeer } from '../../../learner/server/sessions.js';
import type { Hello } from '../../../proto/messages.js';
import { CloseCode } from '../../../proto/wire.js';
import { hello } from '../harness.js';

class Peer implements SessionPeer {
  hello: Hello | null = null;
  closedWith: [number, string] | null = null;
  constructor(readonly actorId: string) {}
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
}

/** A peer whose hello `sessions` accepted (or the refusal). */
function join(sessions: Sessions<Peer>, actorId: string, over: Partial<Hello> = {}) {
  const p = new Peer(actorId);
  const h = hello(actorId, over);
  const refusal = sessions.admit(p, h);
  if (!refusal) p.hello = h;
  return { p, refusal };
}

describe('Sessions', () => {
  it('refuses a hello of another protocol, run or actor with its close code and counter', () => {
    const m = zeroMetrics();
    const s = new Sessions<Peer>({ runId: 'run-1', metrics: m });
    expect(join(s, 'a', { protocol: 99 }).refusal).toMatchObject({ code: CloseCode.PROTOCOL_MISMATCH });
    expect(join(s, 'a', { runId: 'other' }).refusal).toEqual({
      code: CloseCode.WRONG_RUN,
      reason: "this learner serves run 'run-1'",
    });
    const p = new Peer('a');
    expect(s.admit(p, hello('b'))).toEqual({
      code: CloseCode.POLICY_VIOLATION,
      reason: 'hello.actorId does not match the token',
    });
    expect(m).toMatchObject({ protocolMismatch: 1, wrongRun: 1, protocolErr: 1 });
    expect(s.get('a')).toBeUndefined();
  });

  it('a newer connection supersedes the older one (4003) and fences its incarnation', () => {
    const m = zeroMetrics();
    const s = new Sessions<Peer>({ runId: 'run-1', metrics: m });
    const first = join(s, 'a', { incarnation: 'inc-1' }).p;
    expect(s.get('a')).toBe(first);
    // The same incarnation reconnecting (a dropped connection) supersedes without fencing.
    const again = join(s, 'a', { incarnation: 'inc-1' }).p;
    expect(first.closedWith?.[0]).toBe(CloseCode.SUPERSEDED);
    const second = join(s, 'a', { incarnation: 'inc-2' }).p;
    expect(again.closedWith?.[0]).toBe(CloseCode.SUPERSEDED);
    expect(s.get('a')).toBe(second);
    expect(join(s, 'a', { incarnation: 'inc-1' }).refusal).toEqual({
      code: CloseCode.SUPERSEDED,
      reason: 'incarnation fenced by a newer one',
    });
    expect(s.get('a')).toBe(second);
    expect(second.closedWith).toBeNull();
    expect(m).toMatchObject({ superseded: 2, fencedHellos: 1 });
    // Another actor is not affected.
    expect(join(s, 'b', { incarnation: 'inc-1' }).refusal).toBeNull();
    expect([...s.values()].map((p) => p.actorId).sort()).toEqual(['a', 'b']);
  });

  it(`remembers the last ${FENCE_MEMORY} fenced incarnations per actor`, () => {
    const s = new Sessions<Peer>({ runId: 'run-1', metrics: zeroMetrics() });
    for (let i = 0; i <= FENCE_MEMORY + 1; i++) join(s, 'a', { incarnation: `inc-${i}` });
    // inc-0 .. inc-16 were fenced; only the newest 16 are remembered.
    expect(join(s, 'a', { incarnation: 'inc-0' }).refusal).toBeNull();
    expect(join(s, 'a', { incarnation: 'inc-2' }).refusal?.code).toBe(CloseCode.SUPERSEDED);
  });

  it('remove forgets a closed session, but not a newer one of the same actor', () => {
    const s = new Sessions<Peer>({ runId: 'run-1', metrics: zeroMetrics() });
    const old = join(s, 'a').p;
    const fresh = join(s, 'a').p;
    s.remove(old);
    expect(s.get('a')).toBe(fresh);
    s.remove(fresh);
    expect(s.get('a')).toBeUndefined();
  });
});
