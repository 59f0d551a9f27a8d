import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'panel/dist', 'coverage', '.dev'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['scripts/**', 'tests/**', 'playground/**'], rules: { 'no-console': 'off' } },
  // The playground's page runs in the browser, unbundled.
  { files: ['playground/web/page/**'], languageOptions: { globals: globals.browser } },
  // Migrations are frozen in time and typed against no schema (Kysely<any>), by design.
  { files: ['db/migrations/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
