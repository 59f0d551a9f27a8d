import { sql } from 'kysely';
import { z } from 'zod';
import { transact, type Db, type Tx } from '../../db/client.ts';
import { auditAction } from '../audit.ts';
import { AppError } from '../errors.ts';
import { MAX_AMOUNT } from '../ledger.ts';
import { requirePermission, type Actor } from '../rbac.ts';
import { CATALOG_COLUMNS, RESTRICTED_KINDS, toCatalogItem, type CatalogItem } from './types.ts';
import { mapUniqueViolation, parseInput } from './validation.ts';
import { templateProblem } from './command-template.ts';

const snowflake = z.string().regex(/^[0-9]{15,21}$/, 'must be a Discord role id');
const commandTemplate = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .superRefine((t, ctx) => {
    const problem = templateProblem(t);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const price = z.number().int('must be a whole number of coins').min(1).max(MAX_AMOUNT);

const fields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().trim().max(1000).nullable().optional(),
  basePrice: price,
  active: z.boolean().optional(),
};

const catalogInput = z.discriminatedUnion('kind', [
  z.object({ ...fields, kind: z.literal('discord_role'), roleId: snowflake }).strict(),
  z
    .object({
      ...fields,
      kind: z.literal('minecraft_item'),
      minecraftItem: z.string().trim().min(1).max(200),
      minecraftCommand: commandTemplate,
    })
    .strict(),
  z.object({ ...fields, kind: z.literal('other') }).strict(),
]);
export type CatalogInput = z.input<typeof catalogInput>;

const nameTaken = () =>
  new AppError('catalog_name_taken', 'A catalog item with that name already exists.', 409);

function toColumns(input: z.infer<typeof catalogInput>) {
  return {
    name: input.name,
    kind: input.kind,
    description: input.description ?? null,
    role_id: input.kind === 'discord_role' ? input.roleId : null,
    minecraft_item: input.kind === 'minecraft_item' ? input.minecraftItem : null,
    minecraft_command: input.kind === 'minecraft_item' ? input.minecraftCommand : null,
    base_price: input.basePrice,
    ...(input.active === undefined ? {} : { active: input.active }),
  };
}

/** Adds a catalog item (admin), audited. */
export async function createCatalogItem(db: Db, admin: Actor, input: CatalogInput): Promise<CatalogItem> {
  requirePermission(admin, 'market.manage');
  const data = parseInput(catalogInput, input);
  return mapUniqueViolation(
    () =>
      transact(db, async (trx) => {
        const row = await trx
          .insertInto('catalog_items')
          .values({ ...toColumns(data), created_by: admin.kind === 'member' ? admin.userId : null })
          .returning(CATALOG_COLUMNS)
          .executeTakeFirstOrThrow();
        const item = toCatalogItem(row);
        await audit(trx, admin, 'market.catalog.create', item.id, undefined, item, null);
        return item;
      }),
    'catalog_items_name',
    nameTaken(),
  );
}

/** Replaces a catalog item's definition (admin), audited with before and after. Existing listings keep their price. */
export async function updateCatalogItem(
  db: Db,
  admin: Actor,
  id: string,
  input: CatalogInput,
): Promise<CatalogItem> {
  requirePermission(admin, 'market.manage');
  const data = parseInput(catalogInput, input);
  return mapUniqueViolation(
    () =>
      transact(db, async (trx) => {
        const before = await lockCatalogItem(trx, id);
        if (data.kind !== before.kind && RESTRICTED_KINDS.includes(data.kind)) {
          const listed = await trx
            .selectFrom('listings')
            .select('id')
            .where('catalog_item_id', '=', id)
            .where('official', '=', false)
            .executeTakeFirst();
          if (listed) {
            throw new AppError(
              'catalog_kind_in_use',
              `Players have listed ${before.name}; only the server shop may sell a ${data.kind.replace('_', ' ')}. Create a new item instead.`,
              409,
            );
          }
        }
        const row = await trx
          .updateTable('catalog_items')
          .set({ ...toColumns(data), updated_at: sql`now()` })
          .where('id', '=', id)
          .returning(CATALOG_COLUMNS)
          .executeTakeFirstOrThrow();
        const item = toCatalogItem(row);
        await audit(trx, admin, 'market.catalog.update', id, before, item, null);
        return item;
      }),
    'catalog_items_name',
    nameTaken(),
  );
}

/** Retires or restores a catalog item (admin). Retired items cannot be listed; open listings stay. */
export async function setCatalogItemActive(
  db: Db,
  admin: Actor,
  id: string,
  active: boolean,
): Promise<CatalogItem> {
  requirePermission(admin, 'market.manage');
  return transact(db, async (trx) => {
    const before = await lockCatalogItem(trx, id);
    if (before.active === active) return before;
    const row = await trx
      .updateTable('catalog_items')
      .set({ active, updated_at: sql`now()` })
      .where('id', '=', id)
      .returning(CATALOG_COLUMNS)
      .executeTakeFirstOrThrow();
    const item = toCatalogItem(row);
    await audit(
      trx,
      admin,
      active ? 'market.catalog.activate' : 'market.catalog.retire',
      id,
      before,
      item,
      null,
    );
    return item;
  });
}

async function lockCatalogItem(trx: Tx, id: string): Promise<CatalogItem> {
  const row = /^[0-9]{1,18}$/.test(id)
    ? await trx
        .selectFrom('catalog_items')
        .select(CATALOG_COLUMNS)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst()
    : undefined;
  if (!row) throw catalogItemNotFound();
  return toCatalogItem(row);
}

const audit = (
  trx: Tx,
  admin: Actor,
  action: string,
  id: string,
  before: unknown,
  after: unknown,
  reason: string | null,
) => auditAction(trx, admin, { action, target: { type: 'catalog_item', id }, before, after, reason });

export const catalogItemNotFound = () => new AppError('catalog_item_not_found', 'No such catalog item.', 404);

export async function getCatalogItem(db: Db | Tx, id: string): Promise<CatalogItem | undefined> {
  if (!/^[0-9]{1,18}$/.test(id)) return undefined;
  const row = await db
    .selectFrom('catalog_items')
    .select(CATALOG_COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toCatalogItem(row);
}

/** Every catalog item, by name; `activeOnly` for what players may list. */
export async function listCatalog(db: Db, options: { activeOnly?: boolean } = {}): Promise<CatalogItem[]> {
  let q = db.selectFrom('catalog_items').select(CATALOG_COLUMNS);
  if (options.activeOnly) q = q.where('active', '=', true);
  const rows = await q.orderBy(sql`lower(name)`).execute();
  return rows.map(toCatalogItem);
}

/**
 * Active catalog items players may list (not those only the server shop sells) whose name contains `query`,
 * names starting with it first: autocomplete for /sell.
 */
export async function searchCatalog(db: Db, query: string, limit = 25): Promise<CatalogItem[]> {
  const needle = query.trim().toLowerCase().slice(0, 100);
  const pattern = `%${escapeLike(needle)}%`;
  const rows = await db
    .selectFrom('catalog_items')
    .select(CATALOG_COLUMNS)
    .where('active', '=', true)
    .where('kind', 'not in', RESTRICTED_KINDS)
    .where(sql<boolean>`lower(name) like ${pattern}`)
    .orderBy(sql`lower(name) like ${`${escapeLike(needle)}%`}`, 'desc')
    .orderBy(sql`lower(name)`)
    .limit(Math.min(Math.max(limit, 1), 25))
    .execute();
  return rows.map(toCatalogItem);
}

/** Escapes LIKE wildcards so a user's text matches literally. */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
