import { defineConfig } from 'vitest/config';

// The container test alone (`npm run test:containers`): it needs a Docker engine, root for debootstrap and minutes
// (deploy/docker/prepare-host.sh prepares a machine); .ci/run runs it after `npm test`, which leaves it out.
export default defineConfig({
  test: {
    include: ['test/deploy/containers.test.ts'],
    pool: 'forks',
    testTimeout: 1_500_000,
    hookTimeout: 120_000,
  },
});
