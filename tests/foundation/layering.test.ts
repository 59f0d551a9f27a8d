import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// DESIGN.md §2's "may import" column, as eslint.config.js enforces it: each case lints one import as if it were
// written in `file`, so a loosened rule fails here before an upward arrow reaches main.

const eslint = new ESLint({ cwd: process.cwd() });

async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: file });
  return result!.messages
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

describe('the layering rule', () => {
  it.each([
    ['economy/pay.ts', "import { createApp } from '../functions/app.ts';"],
    ['economy/market/orders.ts', "import { Queues } from '../../jobs/queues.ts';"],
    ['economy/pay.ts', "import { Hono } from 'hono';"],
    ['economy/pay.ts', "import type { APIInteraction } from 'discord-api-types/v10';"],
    ['economy/pay.ts', "import { Queue } from 'bullmq';"],
    ['discord/views/market.ts', "import { getListing } from '../../economy/market/listings.ts';"],
    ['discord/views/market.ts', "import { Queues } from '../../jobs/queues.ts';"],
    ['db/client.ts', "import { payUser } from '../economy/pay.ts';"],
    ['config/env.ts', "import type { Db } from '../db/client.ts';"],
    ['jobs/worker.ts', "import { createApp } from '../functions/app.ts';"],
    ['jobs/handlers/feed-relay.ts', "import type { WorkerDeps } from '../worker.ts';"],
    ['functions/interactions/commands/pay.ts', "import { startWorker } from '../../../jobs/worker.ts';"],
    ['functions/api/routes.ts', "import { handleFeedRelay } from '../../jobs/handlers/feed-relay.ts';"],
    ['functions/app.ts', "import { fundWallets } from '../tests/helpers/seed.ts';"],
    ['minecraft/client.ts', "import { payUser } from '../economy/pay.ts';"],
    ['panel/src/api.ts', "import { createApp } from '../../functions/app.ts';"],
  ])('refuses an upward import in %s: %s', async (file, code) => {
    expect(await layeringErrors(file, code)).toHaveLength(1);
  });

  it.each([
    ['economy/pay.ts', "import { transact } from '../db/client.ts';"],
    ['economy/market/orders.ts', "import { loadConfig } from '../../config/env.ts';"],
    ['discord/views/market.ts', "import type { Listing } from '../../economy/market/types.ts';"],
    ['jobs/handlers/feed-relay.ts', "import type { WorkerDeps } from '../deps.ts';"],
    ['jobs/handlers/market-discord.ts', "import { renderListing } from '../../discord/views/market.ts';"],
    [
      'functions/interactions/commands/setup.ts',
      "import { setupGuildJob } from '../../../jobs/definitions.ts';",
    ],
    ['functions/server.ts', "import { startWorker } from '../jobs/worker.ts';"],
    ['panel/src/api.ts', "import type { AppEnv } from '../../functions/context.ts';"],
    ['economy/pay.test.ts', "import { fundWallets } from '../tests/helpers/seed.ts';"],
    ['scripts/bench-ledger.ts', "import { fundedUsers } from '../tests/helpers/seed.ts';"],
    ['tests/helpers/seed.ts', "import { createApp } from '../../functions/app.ts';"],
  ])('allows a downward import in %s: %s', async (file, code) => {
    expect(await layeringErrors(file, code)).toEqual([]);
  });
});
