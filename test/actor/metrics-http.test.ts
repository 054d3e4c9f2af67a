import parsePrometheus from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { scrapeAllowed, startActorMetrics } from '../../actor/metrics-http.js';

describe("the actor's /metrics", () => {
  it("is open on loopback and needs exactly this actor's bearer header elsewhere", () => {
    const mine = 'Bearer a7.' + 'a'.repeat(64);
    expect(scrapeAllowed('127.0.0.1', undefined, mine)).toBe(true);
    expect(scrapeAllowed('::1', undefined, mine)).toBe(true);
    expect(scrapeAllowed('10.1.2.3', undefined, mine)).toBe(false);
    expect(scrapeAllowed('10.1.2.3', 'Bearer a7.' + 'b'.repeat(64), mine)).toBe(false);
    expect(scrapeAllowed('10.1.2.3', mine, mine)).toBe(true);
  });

  it('exports every numeric figure with the actor id, read at scrape time, and serves only /metrics', async () => {
    let done = 3;
    const m = await startActorMetrics({
      host: '127.0.0.1',
      port: 0,
      actorId: 'a7',
      authorization: 'Bearer a7.' + 'f'.repeat(64),
      figures: () => ({
        trialsDone: done,
        policyVersion: 4,
        client_outbox: 2,
        client_state: 'ready',
        meanBatchFill: NaN,
      }),
    });
    try {
      const scrape = async () =>
        new Map(parsePrometheus(await (await fetch(`${m.url}/metrics`)).text()).map((f) => [f.name, f]));
      let f = await scrape();
      expect(f.get('lamer_actor_trials_done')!.metrics[0]).toMatchObject({ value: '3', labels: { actor_id: 'a7' } });
      expect(f.get('lamer_actor_policy_version')!.metrics[0].value).toBe('4');
      expect(f.get('lamer_actor_client_outbox')!.metrics[0].value).toBe('2');
      expect(f.has('lamer_actor_client_state')).toBe(false);
      expect(f.has('lamer_actor_mean_batch_fill')).toBe(false);
      expect(f.has('process_resident_memory_bytes')).toBe(true);
      done = 5;
      f = await scrape();
      expect(f.get('lamer_actor_trials_done')!.metrics[0].value).toBe('5');
      expect((await fetch(`${m.url}/`)).status).toBe(404);
    } finally {
      await m.close();
    }
  });
});
