import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'Only extension/src/vscode may import vscode; keep the core shared with the CLI.' };
const noTestSupport = { group: ['**/test-support/*'], message: 'Test fixtures are for tests (*.test.ts) only; product code must not ship them.' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test runs and awaits what test() and describe() return; every other promise must be handled.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      // Fastify handlers and hooks are async by convention even when they do not await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  // `vscode` stays at the edge: only the extension's vscode layer may import it. Test fixtures
  // (src/test-support) are for tests only: product code importing one would ship it.
  {
    files: ['**/*.ts'],
    ignores: ['extension/src/vscode/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode], patterns: [noTestSupport] }] },
  },
  {
    files: ['extension/src/vscode/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noTestSupport] }] },
  },
  {
    files: ['**/*.test.ts', '**/test-support/**/*.ts'],
    ignores: ['extension/src/vscode/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
  {
    files: ['extension/src/vscode/**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // One home for access decisions: grants (today a tunnel's owner) are read only by the policy
    // module. Everyone else asks Policy.authorize(), which also audits the decision.
    files: ['relay/src/**/*.ts'],
    ignores: ['relay/src/policy/**', 'relay/src/stores/**', 'relay/src/ports/**', 'relay/src/**/*.test.ts', 'relay/src/test-support/**'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "MemberExpression[property.name='ownerId']", message: 'Grants are read only in relay/src/policy: ask Policy.authorize().' },
        { selector: "CallExpression[callee.property.name=/^(getTunnel|listTunnels|claimTunnel)$/]", message: 'Tunnel records (and their grants) are read only in relay/src/policy: ask Policy.authorize().' },
      ],
    },
  },
  {
    files: ['extension/bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
  },
  {
    // CommonJS preloads (node --require), such as the benchmark's bench/cpu-at-exit.cjs.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly', URL: 'readonly', fetch: 'readonly' },
    },
  },
);
