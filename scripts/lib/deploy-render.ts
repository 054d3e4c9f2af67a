/**
 * `lamer deploy render`: the Kubernetes manifests of deploy/k8s/base with an overlay's two settings applied (the
 * image and the number of actors), printed as `kubectl kustomize` prints them: resources in kustomize's default
 * (legacy) kind order, map keys sorted, YAML 1.1 as Kubernetes reads it. Only the two kustomize transformers the
 * example overlay uses are implemented (`images`, `replicas`); test/deploy/manifests.test.ts compares the output with
 * kustomize's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { badInput } from '../../shared/errors.js';

/** The kustomize base, shipped in the repository and the image. */
export const BASE_DIR = fileURLToPath(new URL('../../deploy/k8s/base', import.meta.url));
/** The image name the base uses; an overlay's `images` entry replaces it. */
export const BASE_IMAGE_NAME = 'lamer';
/** The Deployment whose replica count is the size of the actor fleet. */
export const ACTOR_DEPLOYMENT = 'lamer-actor';

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: unknown };
};

/** An image reference split as kustomize's `images` transformer takes it. */
export interface ImageRef {
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits `registry:5000/team/lamer:1.2` or `...@sha256:...`. A reference without a tag or digest, or with the tag
 * `latest`, is refused: a cluster would pull whatever `latest` is that day, and actors and the learner of one run
 * must speak one protocol version.
 */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  if (at >= 0) {
    const digest = ref.slice(at + 1);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw badInput(`--image ${ref}: the digest must be sha256:<64 hex>`);
    return { name: ref.slice(0, at), digest };
  }
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) throw badInput(`--image ${ref}: give a tag or a digest (e.g. ${ref}:0.1.0), never latest`);
  const tag = ref.slice(colon + 1);
  if (tag === 'latest') throw badInput(`--image ${ref}: pin a version tag or a digest instead of latest`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw badInput(`--image ${ref}: '${tag}' is not a valid tag`);
  return { name: ref.slice(0, colon), tag };
}

function imageName(image: string): string {
  const at = image.indexOf('@');
  const bare = at >= 0 ? image.slice(0, at) : image;
  const colon = bare.lastIndexOf(':');
  return colon > bare.lastIndexOf('/') ? bare.slice(0, colon) : bare;
}

/** kustomize's default output order (api/resid/gvk.go, "legacy"): these kinds first, in this order; then the rest. */
const ORDER_FIRST = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

function rank(kind: string): number {
  const first = ORDER_FIRST.indexOf(kind);
  if (first >= 0) return first;
  const last = ORDER_LAST.indexOf(kind);
  return last >= 0 ? 1000 + last : 500;
}

/** The resources a kustomization lists, parsed (YAML 1.1: `0440` is octal, as Kubernetes reads it). */
export function loadBase(dir = BASE_DIR): Manifest[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources?: string[] };
  const out: Manifest[] = [];
  for (const file of k.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'), { version: '1.1' })) {
      if (doc.errors.length) throw badInput(`${file}: ${doc.errors[0].message}`);
      const m = doc.toJS() as Manifest | null;
      if (m) out.push(m);
    }
  }
  return out;
}

type PodSpec = { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> };

/** The pod template spec of a workload, if it has one. */
export function podSpecOf(m: Manifest): PodSpec | undefined {
  const spec = m.spec as { template?: { spec?: PodSpec } } | undefined;
  return spec?.template?.spec;
}

export interface Overlay {
  /** Replicas of the actor Deployment. */
  actors: number;
  /** The image reference replacing the base's `lamer:<version>`; default: keep it. */
  image?: string;
}

/** The base with the overlay applied, as kustomize orders it. */
export function renderManifests(o: Overlay, base: Manifest[] = loadBase()): Manifest[] {
  if (!Number.isInteger(o.actors) || o.actors < 0) throw badInput(`--actors must be an integer >= 0, got ${o.actors}`);
  const ref = o.image === undefined ? undefined : parseImageRef(o.image);
  const docs = structuredClone(base);
  for (const m of docs) {
    if (m.metadata.name === ACTOR_DEPLOYMENT && m.kind === 'Deployment')
      (m.spec as { replicas?: number }).replicas = o.actors;
    const pod = podSpecOf(m);
    if (!ref || !pod) continue;
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      if (c.image === undefined || imageName(c.image) !== BASE_IMAGE_NAME) continue;
      c.image = ref.digest ? `${ref.name}@${ref.digest}` : `${ref.name}:${ref.tag}`;
    }
  }
  if (!docs.some((m) => m.kind === 'Deployment' && m.metadata.name === ACTOR_DEPLOYMENT))
    throw badInput(`the base has no Deployment ${ACTOR_DEPLOYMENT}`);
  return docs
    .map((m, i) => ({ m, i }))
    .sort(
      (a, b) =>
        rank(a.m.kind) - rank(b.m.kind) ||
        (rank(a.m.kind) === 500 ? a.m.kind.localeCompare(b.m.kind) : 0) ||
        a.m.metadata.name.localeCompare(b.m.metadata.name) ||
        a.i - b.i,
    )
    .map((x) => x.m);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** Manifests as one YAML stream in kustomize's style (sorted keys, unindented sequences, `---` between). */
export function toYaml(docs: Manifest[]): string {
  return docs
    .map((m) =>
      stringify(sortKeys(m), {
        version: '1.1',
        indentSeq: false,
        lineWidth: 0,
        defaultStringType: 'PLAIN',
        defaultKeyType: 'PLAIN',
      }),
    )
    .join('---\n');
}
