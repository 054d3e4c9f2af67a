/**
 * The Kubernetes manifests (deploy/k8s): `lamer deploy render` prints what `kubectl kustomize` prints for the same
 * overlay; every rendered object is valid against the Kubernetes API schemas offline (kubernetes-models: the JSON
 * schema validators, and its TypeScript types for unknown fields); and the invariants the deployment relies on hold
 * for any number of actors (one learner, PVC at the run directory, probes, secret references, pinned images).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BASE_DIR,
  type Manifest,
  parseImageRef,
  podSpecOf,
  renderManifests,
  toYaml,
} from '../../scripts/lib/deploy-render.js';
import { resolveConfig } from '../../shared/config.js';
import { configData, containers, find, flag, fleet, one, volumes } from './k8s.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = join(REPO, 'deploy', 'k8s', 'overlays', 'example');

/** `kubectl kustomize DIR` (kubectl's built-in kustomize; works offline). */
function kustomize(dir: string): string {
  return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
}

/** An overlay directory like the example, with other values. */
function overlayDir(actors: number, image: ReturnType<typeof parseImageRef>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-overlay-'));
  const newTag = image.tag ? `    newTag: "${image.tag}"\n` : '';
  const digest = image.digest ? `    digest: ${image.digest}\n` : '';
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(dir, BASE_DIR)}\n` +
      `images:\n  - name: lamer\n    newName: ${image.name}\n${newTag}${digest}` +
      `replicas:\n  - name: lamer-actor\n    count: ${actors}\n`,
  );
  return dir;
}

/** The kubernetes-models class of each kind the manifests use (a new kind must be added here). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** Runtime validation with the kubernetes-models class of the object's apiVersion and kind. */
async function validateSchema(m: Manifest): Promise<void> {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`no schema for ${m.apiVersion}/${m.kind}: add its kubernetes-models class`);
  new Model(m as never).validate();
}

/**
 * Compile-time validation: each manifest as a typed object literal, so TypeScript's excess-property check reports
 * fields the API does not have (a misspelt `readinesProbe` passes the JSON schema, which allows extra fields).
 */
function typeErrors(docs: Manifest[]): string[] {
  const file = join(REPO, 'test', 'deploy', '__manifests_typecheck__.ts');
  const source = docs
    .map(
      (m, i) =>
        `import type { I${m.kind} as T${i} } from 'kubernetes-models/${m.apiVersion}/${m.kind}';\n` +
        `export const m${i}: T${i} = ${JSON.stringify(m)};\n`,
    )
    .join('');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('lamer deploy render', () => {
  it('prints exactly what kubectl kustomize prints for the example overlay', () => {
    const k = parse(readFileSync(join(EXAMPLE, 'kustomization.yaml'), 'utf8')) as {
      images: Array<{ newName: string; newTag: string }>;
      replicas: Array<{ count: number }>;
    };
    const image = `${k.images[0].newName}:${k.images[0].newTag}`;
    expect(toYaml(renderManifests({ actors: k.replicas[0].count, image }))).toBe(kustomize(EXAMPLE));
  });

  it('prints what kustomize prints for other counts, tags and digests', () => {
    for (const [actors, image] of [
      [0, 'lamer:0.1.0'],
      [7, 'registry.internal:5000/team/lamer:2026.12-rc1'],
      [31, `ghcr.example/lamer@sha256:${'ab'.repeat(32)}`],
    ] as const) {
      const dir = overlayDir(actors, parseImageRef(image));
      expect(toYaml(renderManifests({ actors, image })), `${actors} actors, ${image}`).toBe(kustomize(dir));
    }
  });

  it('is the lamer CLI command documented in docs/deploy.md', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'scripts', 'cli.ts'), 'deploy', 'render', '--actors', '5', '--image', 'r/l:1'],
      { encoding: 'utf8' },
    );
    expect(out).toBe(toYaml(renderManifests({ actors: 5, image: 'r/l:1' })));
  });

  it('refuses an image without a pinned version', () => {
    expect(() => parseImageRef('lamer')).toThrow(/give a tag or a digest/);
    expect(() => parseImageRef('registry:5000/lamer')).toThrow(/give a tag or a digest/);
    expect(() => parseImageRef('lamer:latest')).toThrow(/instead of latest/);
    expect(() => parseImageRef('lamer@sha256:abc')).toThrow(/digest must be/);
    expect(parseImageRef('registry:5000/lamer:1.2')).toEqual({ name: 'registry:5000/lamer', tag: '1.2' });
    expect(() => renderManifests({ actors: -1 })).toThrow(/--actors must be an integer >= 0/);
  });
});

describe('the manifests against the Kubernetes API schemas', () => {
  const docs = renderManifests({ actors: 3, image: 'registry.example.com/lamer:0.1.0' });

  it('every object validates against its kind', async () => {
    expect(docs.map((m) => `${m.apiVersion}/${m.kind}`).sort()).toEqual([
      'apps/v1/Deployment',
      'apps/v1/StatefulSet',
      'policy/v1/PodDisruptionBudget',
      'v1/ConfigMap',
      'v1/Service',
    ]);
    for (const m of docs) await validateSchema(m);
  });

  it('has no field the API does not know', () => {
    expect(typeErrors(docs)).toEqual([]);
  });

  it('would catch a wrong type, a missing field and an unknown field', async () => {
    const bad = structuredClone(docs);
    const set = one(bad, 'StatefulSet');
    (set.spec as Record<string, unknown>).replicas = 'one';
    await expect(validateSchema(set)).rejects.toThrow(/replicas must be integer/);
    const svc = structuredClone(one(docs, 'Service'));
    delete (svc.spec as { ports: Array<{ port?: number }> }).ports[0].port;
    await expect(validateSchema(svc)).rejects.toThrow(/port/);
    const actor = structuredClone(one(docs, 'Deployment'));
    const c = containers(actor)[0] as unknown as Record<string, unknown>;
    c.readinesProbe = c.readinessProbe ?? {};
    expect(typeErrors([actor]).join('\n')).toMatch(/readinesProbe/);
  });
});

describe('deployment invariants, for any number of actors', () => {
  for (const actors of [1, 4, 50]) {
    const docs = renderManifests({ actors, image: 'registry.example.com/lamer:0.1.0' });
    const { learnerSet, actorDeploy, learner, actor, configMap } = fleet(docs);

    it(`${actors} actors: one learner StatefulSet, the actor Deployment scaled to ${actors}`, () => {
      expect(find(docs, 'StatefulSet')).toHaveLength(1);
      expect((learnerSet.spec as { replicas: number }).replicas).toBe(1);
      expect(containers(learnerSet)).toHaveLength(1);
      expect(learner.args?.[0]).toBe('learner');
      expect(find(docs, 'Deployment')).toHaveLength(1);
      expect((actorDeploy.spec as { replicas: number }).replicas).toBe(actors);
      expect(actor.args?.[0]).toBe('actor');
    });

    it(`${actors} actors: the run directory is on the PersistentVolumeClaim`, () => {
      const claims = (learnerSet.spec as { volumeClaimTemplates: Array<{ metadata: { name: string } }> })
        .volumeClaimTemplates;
      expect(claims).toHaveLength(1);
      const mount = learner.volumeMounts?.find((v) => v.name === claims[0].metadata.name);
      expect(mount, 'the claim is mounted').toBeDefined();
      const runDir = flag(learner.args!, '--run-dir')!;
      expect(runDir.startsWith(mount!.mountPath + '/')).toBe(true);
      // The base-model cache is on the claim too (else every rescheduled learner pretrains again).
      const cache = learner.args!.find((a) => a.startsWith('pretrain.cacheDir='))!.split('=')[1];
      expect(cache.startsWith(mount!.mountPath + '/')).toBe(true);
    });

    it(`${actors} actors: probes, ports, Service and Prometheus annotations agree`, () => {
      const ports = Object.fromEntries((learner.ports ?? []).map((p) => [p.name, p.containerPort]));
      expect(flag(learner.args!, '--listen')).toBe(`0.0.0.0:${ports.ws}`);
      expect(flag(learner.args!, '--metrics-listen')).toBe(`0.0.0.0:${ports.http}`);
      expect(learner.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(learner.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(learner.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      const ann = (learnerSet.spec as { template: { metadata: { annotations: Record<string, string> } } }).template
        .metadata.annotations;
      expect(ann).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
      expect(Number(ann['prometheus.io/port'])).toBe(ports.http);
      // Probes and the scrape carry no token: the run configuration opens exactly those paths, and it parses.
      const runYaml = parse(configData(configMap)['run.yaml']) as Record<string, unknown>;
      const config = resolveConfig(runYaml);
      expect([...config.observe.openPaths].sort()).toEqual(['/healthz', '/metrics', '/readyz']);

      const svc = one(docs, 'Service');
      const labels = (learnerSet.spec as { template: { metadata: { labels: Record<string, string> } } }).template
        .metadata.labels;
      expect(labels).toMatchObject((svc.spec as { selector: Record<string, string> }).selector);
      const svcPorts = (svc.spec as { ports: Array<{ name: string; port: number; targetPort: string }> }).ports;
      for (const p of svcPorts) expect(ports[p.targetPort], p.name).toBeDefined();
      const ws = svcPorts.find((p) => p.targetPort === 'ws')!;
      expect(flag(actor.args!, '--learner')).toBe(`ws://${svc.metadata.name}:${ws.port}`);
      expect((learnerSet.spec as { serviceName: string }).serviceName).toBe(svc.metadata.name);
      const pdb = one(docs, 'PodDisruptionBudget');
      expect(labels).toMatchObject(
        (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
      );
      expect((pdb.spec as { minAvailable: number }).minAvailable).toBe(1);
    });

    it(`${actors} actors: identity from the pod name, credentials and run id from references, no per-pod step`, () => {
      expect(flag(actor.args!, '--actor-id')).toBe('$(POD_NAME)');
      expect(actor.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      const data = configData(configMap);
      for (const [m, c] of [
        [learnerSet, learner],
        [actorDeploy, actor],
      ] as const) {
        const keyFile = flag(c.args!, '--key-file')!;
        const secret = volumes(m).find((v) => v.secret);
        expect(secret?.secret?.secretName, `${c.name}: Secret`).toBe('lamer-run-key');
        expect(secret?.secret?.defaultMode, `${c.name}: key file mode 0440`).toBe(0o440);
        const mount = c.volumeMounts!.find((v) => v.name === secret!.name)!;
        expect(mount.readOnly).toBe(true);
        expect(keyFile).toBe(`${mount.mountPath}/master.key`);
        const runId = c.env?.find((e) => e.name === 'LAMER_RUN_ID')?.valueFrom?.configMapKeyRef;
        expect(runId).toEqual({ name: configMap.metadata.name, key: 'LAMER_RUN_ID' });
        expect(data.LAMER_RUN_ID).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/);
        // No secret value in any manifest: only references.
        expect(JSON.stringify(m)).not.toMatch(/[0-9a-f]{64}/);
      }
      expect(find(docs, 'Secret')).toHaveLength(0);
      expect(flag(actor.args!, '--outbox-dir')).toBe(
        actor.volumeMounts!.find((v) => volumes(actorDeploy).find((x) => x.name === v.name)?.emptyDir)?.mountPath,
      );
    });

    it(`${actors} actors: pinned images, resources, non-root, GPU-less nodes`, () => {
      for (const m of docs) {
        const pod = podSpecOf(m) as
          | (ReturnType<typeof podSpecOf> & {
              securityContext?: { runAsNonRoot?: boolean };
              affinity?: { nodeAffinity?: unknown };
            })
          | undefined;
        if (!pod) continue;
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(JSON.stringify(pod.affinity?.nodeAffinity)).toContain('nvidia.com/gpu.present');
        for (const c of containers(m)) {
          expect(c.image).toBe('registry.example.com/lamer:0.1.0');
          expect(c.image).not.toMatch(/:latest$/);
          for (const r of ['cpu', 'memory']) {
            expect(c.resources?.requests?.[r], `${c.name} requests ${r}`).toBeDefined();
            expect(c.resources?.limits?.[r], `${c.name} limits ${r}`).toBeDefined();
          }
        }
      }
    });
  }
});

describe('the image', () => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8');

  it('is built from a configurable Node 20 base, production dependencies only, non-root, lamer as entrypoint', () => {
    expect(dockerfile).toMatch(/^ARG BASE=node:20-bookworm-slim$/m);
    expect(dockerfile.match(/^FROM \$\{BASE\}/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/lamer\.mjs"\]$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/runs"\]$/m);
    // The manifests run as that uid and mount the run directory where the image declares its volume.
    const { learnerSet, learner } = fleet();
    expect((podSpecOf(learnerSet) as { securityContext: { runAsUser: number } }).securityContext.runAsUser).toBe(1000);
    expect(learner.volumeMounts!.some((v) => v.mountPath === '/runs')).toBe(true);
  });

  it('gets the sources it runs and never node_modules, runs or .git', () => {
    const lines = ignore.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    for (const dir of ['bin', 'proto', 'shared', 'actor', 'learner', 'scripts', 'deploy/k8s'])
      expect(lines).toContain(`!${dir}`);
    for (const l of lines) expect(l).not.toMatch(/node_modules|runs|\.git|test/);
  });
});
