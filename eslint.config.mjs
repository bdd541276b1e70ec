import nx from '@nx/eslint-plugin';

// Transport client libraries may only be imported by libs/messaging (the event-bus port's adapters),
// so that service logic runs the same on Kafka, on the in-process bus and in tests.
const transports = ['kafkajs', 'mqtt', 'aedes', 'aedes-*'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '.infra', '.nx', '**/web/dist', 'coverage', 'test-output', '.venv-models', '.venv-triton', 'bench/results'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:core'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:core'], bannedExternalImports: transports },
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [], bannedExternalImports: transports },
            { sourceTag: 'scope:observability', onlyDependOnLibsWithTags: ['scope:contracts'], bannedExternalImports: transports },
            { sourceTag: 'scope:messaging', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:observability'] },
            { sourceTag: 'type:app', bannedExternalImports: transports },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      // Used where an invariant guarantees presence (e.g. the head of a non-empty queue).
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
