import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'runner/**',
      'test/vscode/.work/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    // Type-aware rules: what the type checker can see that plain lint cannot.
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // A promise nobody awaits loses its error: await it, return it, or mark it `void` on purpose.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' },
          ],
        },
      ],
      eqeqeq: ['error', 'smart'],
      'no-console': 'off',
    },
  },
  {
    // The language server speaks over stdio/IPC: console output would corrupt
    // the protocol or vanish; it logs through connection.console (server/src/log.ts).
    // The engine, launching and the protocol are libraries: they return, the caller prints.
    files: [
      'server/src/**/*.ts',
      'engine/src/**/*.ts',
      'launch/src/**/*.ts',
      'protocol/src/**/*.ts',
    ],
    ignores: ['**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
);
