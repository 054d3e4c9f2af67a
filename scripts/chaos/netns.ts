/**
 * Two network namespaces joined by a veth pair — actors in one, the learner in the other — and the network faults
 * of docs/reliability.md §7 between them: partition (iptables DROP both ways), TCP resets (REJECT tcp-reset) and
 * random packet loss (nft numgen; this kernel has no netem). Needs root, `ip`, `iptables` and `nft`.
 *
 * Names carry a per-run tag so concurrent runs do not collide; {@link NetnsPair.teardown} is idempotent and is
 * also registered on process exit, so namespaces never outlive the driver (also when it fails).
 */
import { execFileSync } from 'node:child_process';
import { LamerError, badInput } from '../../shared/errors.js';

export type NetFault = 'partition' | 'reset' | 'loss';

function run(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
}

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why namespaces cannot be used here, or null if they can (`tools`: the commands the caller will need). */
export function netnsUnavailable(tools: readonly string[] = ['ip', 'iptables', 'nft']): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const missing = tools.filter((c) => !have(c));
  if (missing.length) return `missing ${missing.join(', ')} (Debian: apt-get install iproute2 iptables nftables)`;
  return null;
}

export class NetnsPair {
  readonly actorNs: string;
  readonly learnerNs: string;
  readonly actorIp: string;
  readonly learnerIp: string;
  private readonly vethA: string;
  private readonly vethL: string;
  private up = false;
  private readonly onExit = () => this.teardown();
  /** Faults applied, in order (for the report). */
  readonly log: Array<{ fault: NetFault; at: number; ms: number; detail?: string }> = [];

  constructor(tag: string) {
    if (!/^[a-z0-9]{1,8}$/.test(tag)) throw badInput(`netns tag must be 1-8 of [a-z0-9], got '${tag}'`);
    this.actorNs = `lamer-act-${tag}`;
    this.learnerNs = `lamer-lrn-${tag}`;
    this.vethA = `lma${tag}`.slice(0, 15);
    this.vethL = `lml${tag}`.slice(0, 15);
    // Each pair lives in its own namespaces, so these fixed addresses never clash between concurrent runs.
    this.actorIp = '10.231.0.1';
    this.learnerIp = '10.231.0.2';
  }

  /**
   * Creates both namespaces and the link; tears down what was built if any step fails. `tools`: the commands the
   * caller will use (fault injection needs iptables and nft; a plain two-host run only ip).
   */
  setup(o: { what?: string; tools?: readonly string[] } = {}): void {
    const why = netnsUnavailable(o.tools);
    if (why) throw badInput(`${o.what ?? '--netns'}: ${why}`);
    process.once('exit', this.onExit);
    this.up = true;
    try {
      run(['ip', 'netns', 'add', this.actorNs]);
      run(['ip', 'netns', 'add', this.learnerNs]);
      run(['ip', 'link', 'add', this.vethA, 'type', 'veth', 'peer', 'name', this.vethL]);
      run(['ip', 'link', 'set', this.vethA, 'netns', this.actorNs]);
      run(['ip', 'link', 'set', this.vethL, 'netns', this.learnerNs]);
      run(['ip', '-n', this.actorNs, 'addr', 'add', `${this.actorIp}/24`, 'dev', this.vethA]);
      run(['ip', '-n', this.learnerNs, 'addr', 'add', `${this.learnerIp}/24`, 'dev', this.vethL]);
      for (const ns of [this.actorNs, this.learnerNs]) run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      run(['ip', '-n', this.actorNs, 'link', 'set', this.vethA, 'up']);
      run(['ip', '-n', this.learnerNs, 'link', 'set', this.vethL, 'up']);
    } catch (e) {
      this.teardown();
      const err = e as Error & { stderr?: Buffer };
      throw new LamerError('RL_ERR_INTERNAL', `netns setup failed: ${err.stderr?.toString().trim() || err.message}`);
    }
  }

  private exec(ns: string, args: string[]): void {
    run(['ip', 'netns', 'exec', ns, ...args]);
  }

  /** Caps the actor namespace's egress with a token-bucket filter (tc tbf), e.g. rate '100mbit'. */
  limitActorEgress(rate: string): void {
    this.exec(this.actorNs, [
      'tc',
      'qdisc',
      'add',
      'dev',
      this.vethA,
      'root',
      'tbf',
      'rate',
      rate,
      'burst',
      '256kb',
      'latency',
      '500ms',
    ]);
  }

  /** Starts one fault; returns the function that heals it. */
  inject(fault: NetFault, lossPct = 20): () => void {
    switch (fault) {
      case 'partition':
        this.exec(this.actorNs, ['iptables', '-A', 'OUTPUT', '-d', this.learnerIp, '-j', 'DROP']);
        this.exec(this.learnerNs, ['iptables', '-A', 'OUTPUT', '-d', this.actorIp, '-j', 'DROP']);
        return () => this.flushIptables();
      case 'reset':
        this.exec(this.actorNs, [
          'iptables',
          '-A',
          'OUTPUT',
          '-p',
          'tcp',
          '-d',
          this.learnerIp,
          '-j',
          'REJECT',
          '--reject-with',
          'tcp-reset',
        ]);
        return () => this.flushIptables();
      case 'loss':
        this.exec(this.learnerNs, ['nft', 'add', 'table', 'inet', 'chaos']);
        this.exec(this.learnerNs, [
          'nft',
          'add',
          'chain',
          'inet',
          'chaos',
          'in',
          '{ type filter hook input priority 0; policy accept; }',
        ]);
        this.exec(this.learnerNs, [
          'nft',
          'add',
          'rule',
          'inet',
          'chaos',
          'in',
          'ip',
          'saddr',
          this.actorIp,
          'numgen',
          'random',
          'mod',
          '100',
          '<',
          String(lossPct),
          'drop',
        ]);
        return () => {
          try {
            this.exec(this.learnerNs, ['nft', 'delete', 'table', 'inet', 'chaos']);
          } catch {
            /* already gone */
          }
        };
    }
  }

  private flushIptables(): void {
    for (const ns of [this.actorNs, this.learnerNs]) {
      try {
        this.exec(ns, ['iptables', '-F']);
      } catch {
        /* namespace gone */
      }
    }
  }

  /** Applies `fault` for `ms`, then heals it (also if the wait is interrupted by an error). */
  async apply(fault: NetFault, ms: number, lossPct = 20): Promise<void> {
    const heal = this.inject(fault, lossPct);
    this.log.push({
      fault,
      at: Date.now(),
      ms,
      ...(fault === 'loss' ? { detail: `${lossPct}% of actor->learner packets` } : {}),
    });
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      heal();
    }
  }

  /** Deletes both namespaces (and with them the veth pair). Safe to call more than once. */
  teardown(): void {
    if (!this.up) return;
    this.up = false;
    process.off('exit', this.onExit);
    for (const ns of [this.actorNs, this.learnerNs]) {
      try {
        run(['ip', 'netns', 'del', ns]);
      } catch {
        /* not created */
      }
    }
  }

  /** Namespaces of this tag that still exist (for tests: teardown left nothing behind). */
  leftovers(): string[] {
    const list = run(['ip', 'netns', 'list']);
    return [this.actorNs, this.learnerNs].filter((ns) => new RegExp(`^${ns}\\b`, 'm').test(list));
  }
}
