import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Top-level folders whose code other folders may or may not import (DESIGN.md §2). */
const FOLDERS = [
  'functions',
  'economy',
  'discord',
  'minecraft',
  'jobs',
  'db',
  'config',
  'panel',
  'scripts',
  'playground',
  'tests',
  'docker',
];

/** DESIGN.md §2's "may import" column: the arrows only go down. scripts/, playground/ and tests/ import anything. */
const MAY_IMPORT = {
  functions: ['economy', 'discord', 'minecraft', 'jobs', 'db', 'config'],
  economy: ['db', 'config'],
  discord: ['economy', 'config'],
  minecraft: ['config'],
  jobs: ['economy', 'discord', 'minecraft', 'db', 'config'],
  db: ['config'],
  config: [],
  panel: [],
};

/** A relative import that climbs out of the file's folder into `folders`. */
const into = (folders) => `^(\\.\\./)+(${folders.join('|')})/`;

const layering = (folder, extra = []) => {
  const allowed = MAY_IMPORT[folder];
  const forbidden = FOLDERS.filter((f) => f !== folder && !allowed.includes(f));
  return [
    {
      regex: into(forbidden),
      message: `DESIGN.md §2: ${folder}/ may import ${allowed.map((f) => `${f}/`).join(', ') || 'nothing of the app'}.`,
    },
    ...extra,
  ];
};

const PAYLOAD_PACKAGES = {
  regex: '^(hono|@hono/.*|bullmq|discord-api-types(/.*)?|discord-interactions|@discordjs/.*)$',
  message: 'DESIGN.md §2: economy/ never imports Hono, Discord payload types or BullMQ.',
};

/** One `no-restricted-imports` per layer; unit tests beside the source (`*.test.ts`) are tests and import anything. */
const layerRules = (folder, patterns, ignores = []) => ({
  files: [`${folder}/**/*.ts`, `${folder}/**/*.tsx`],
  ignores: ['**/*.test.ts', ...ignores],
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
});

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
  { files: ['scripts/**', 'tests/**'], rules: { 'no-console': 'off' } },
  // Migrations are frozen in time and typed against no schema (Kysely<any>), by design.
  { files: ['db/migrations/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },

  layerRules('economy', layering('economy', [PAYLOAD_PACKAGES])),
  layerRules(
    'discord',
    layering('discord', [
      {
        regex: into(['economy']),
        allowTypeImports: true,
        message: 'DESIGN.md §2: discord/ imports only types from economy/ (`import type`).',
      },
    ]),
  ),
  layerRules('minecraft', layering('minecraft')),
  layerRules('jobs', layering('jobs'), ['jobs/handlers/**']),
  // Handlers take their dependencies' type from jobs/deps.ts: importing the worker that imports them is a cycle.
  layerRules(
    'jobs/handlers',
    layering('jobs', [
      {
        regex: '^\\.\\./worker\\.ts$',
        message: 'A handler imports WorkerDeps from jobs/deps.ts, not the worker.',
      },
    ]),
  ),
  layerRules('db', layering('db')),
  layerRules('config', layering('config')),
  // The panel talks to the server over HTTP only; its client may take its types from the server's routes.
  layerRules(
    'panel',
    layering('panel').map((p) => ({ ...p, allowTypeImports: true })),
  ),
  // functions/ enqueues jobs (definitions, queues, the enqueue helpers) but does not run them; server.ts, the
  // process entry of every role, is the one place that starts the worker.
  layerRules(
    'functions',
    layering('functions', [
      {
        regex: '^(\\.\\./)+jobs/(worker|deps|heartbeat|handlers/)',
        message:
          'DESIGN.md §2: functions/ uses jobs/ to enqueue only; the worker is started by functions/server.ts.',
      },
    ]),
    ['functions/server.ts'],
  ),
  {
    files: ['functions/server.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: layering('functions') }] },
  },
);
