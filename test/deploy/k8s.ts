/** Readers for the rendered Kubernetes manifests, shared by the manifest test and the container test. */
import { type Manifest, podSpecOf, renderManifests } from '../../scripts/lib/deploy-render.js';

export interface ContainerSpec {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: {
      fieldRef?: { fieldPath: string };
      configMapKeyRef?: { name: string; key: string };
      secretKeyRef?: { name: string; key: string };
    };
  }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
}

export interface Volume {
  name: string;
  secret?: { secretName: string; defaultMode?: number };
  configMap?: { name: string; items?: Array<{ key: string; path: string }> };
  emptyDir?: Record<string, unknown>;
}

export function find(docs: Manifest[], kind: string, name?: string): Manifest[] {
  return docs.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
}

export function one(docs: Manifest[], kind: string, name?: string): Manifest {
  const found = find(docs, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''}, found ${found.length}`);
  return found[0];
}

export function containers(m: Manifest): ContainerSpec[] {
  return (podSpecOf(m)?.containers ?? []) as ContainerSpec[];
}

export function volumes(m: Manifest): Volume[] {
  return ((podSpecOf(m) as { volumes?: Volume[] } | undefined)?.volumes ?? []) as Volume[];
}

/** A ConfigMap's data. */
export function configData(m: Manifest): Record<string, string> {
  return (m as unknown as { data: Record<string, string> }).data;
}

/** The value after `flag` in an argv, or undefined. */
export function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Every value of a repeatable flag. */
export function flags(args: readonly string[], name: string): string[] {
  return args.flatMap((a, i) => (a === name && i + 1 < args.length ? [args[i + 1]] : []));
}

/** The learner and actor containers of the rendered manifests (one learner StatefulSet, one actor Deployment). */
export function fleet(docs: Manifest[] = renderManifests({ actors: 2 })) {
  const learnerSet = one(docs, 'StatefulSet');
  const actorDeploy = one(docs, 'Deployment');
  return {
    learnerSet,
    actorDeploy,
    learner: containers(learnerSet)[0],
    actor: containers(actorDeploy)[0],
    configMap: one(docs, 'ConfigMap'),
  };
}
