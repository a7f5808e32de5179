import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';
import svelteConfig from './src-renderer/svelte.config.js';

export default tseslint.config(
  {
    ignores: ['node_modules', 'dist', 'out', 'resources/models', 'test-results', '.bench', '.scratch'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Type-aware rules, with each file's own tsconfig (the root one, or src-renderer's for the UI).
    files: ['**/*.ts', '**/*.svelte'],
    languageOptions: {
      parserOptions: {
        // vite.config.ts belongs to no tsconfig (it runs under vite, not in the app)
        projectService: { allowDefaultProject: ['src-renderer/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      // A promise nobody awaits loses its error: await it, or mark it `void` with its .catch nearby.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's runner collects top-level tests itself
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, svelteConfig } },
    // TypeScript (svelte-check) already knows the DOM's names; the JS rule does not.
    rules: { 'no-undef': 'off' },
  },
  {
    // CommonJS bootstraps (src-main/boot): they must load before anything asynchronous starts.
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // svelte's wrapper of this core rule crashes on CommonJS scopes (eslint-plugin-svelte 3.24)
      'svelte/no-inner-declarations': 'off',
    },
  },
  {
    // The engine must stay transport-agnostic (ARCHITECTURE.md decision 6).
    files: ['src-main/engine/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron'], patterns: ['**/electron/**'] }] },
  },
);
