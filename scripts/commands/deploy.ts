/** `lamer deploy render` — the Kubernetes manifests (deploy/k8s/base plus an overlay's image and actor count). */
import type { Command } from 'commander';
import { parseIntOption } from '../lib/io.js';

export function register(program: Command): void {
  const deploy = program
    .command('deploy')
    .description('Kubernetes manifests for a learner and a fleet of actors (docs/deploy.md)');
  deploy
    .command('render')
    .description(
      'print the manifests of deploy/k8s/base with N actors and an image, as `kubectl kustomize` prints an overlay',
    )
    .requiredOption('--actors <n>', 'replicas of the actor Deployment', parseIntOption('actors', 0))
    .option(
      '--image <ref>',
      'image for the learner and the actors, with a tag or digest (default: the base, lamer:VERSION)',
    )
    .action(async (o: { actors: number; image?: string }) => {
      const { renderManifests, toYaml } = await import('../lib/deploy-render.js');
      process.stdout.write(toYaml(renderManifests({ actors: o.actors, image: o.image })));
    });
}
