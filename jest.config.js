// One jest run, several projects: unit specs live beside the code, integration/e2e/deploy
// tests live under test/ and run against real brokers and tools (see test/infra).
const { swcOptions } = require('./tools/swc-options.cjs');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);
const swc = swcOptions({ rewritePaths: false });
const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  moduleNameMapper,
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swc, swcrc: false }] },
  // @platformatic/kafka (the Kafka admin client of libs/messaging) and its dependency scule ship
  // ES modules only; let SWC turn them into CommonJS for jest. execa, also ESM-only, is not loaded
  // under jest: libs/deploy takes an injected runner and the tests pass one on child_process.
  transformIgnorePatterns: ['/node_modules/(?!(@platformatic|scule)/)'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.infra/'],
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
    { ...base, displayName: 'deploy', testMatch: ['<rootDir>/test/deploy/**/*.test.ts'] },
    {
      ...base,
      // Includes the kill-and-restart matrix and the overload test (*.matrix.test.ts), also run
      // alone by `npm run test:fault-matrix`.
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/faults/global-setup.ts',
    },
    {
      ...base,
      // A real single-node Kubernetes (test/infra/cluster.sh) and the images in its registry.
      displayName: 'cluster',
      testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
    },
  ],
};
