import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs a Docker engine and the offline base image: `npm run test:containers` (.ci/run runs it too).
    exclude: [...configDefaults.exclude, 'test/deploy/containers.test.ts'],
    // Two cores: forks keep onnxruntime sessions and worker pools isolated per test file.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
