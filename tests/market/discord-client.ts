import { ComponentType, type APIEmbed, type APIInteractionResponseCallbackData } from 'discord-api-types/v10';
import { expect } from 'vitest';
import { Ledger } from '../../economy/ledger.ts';
import { balanceOf, fundWallets } from '../helpers/db.ts';
import type { InteractionServer } from '../helpers/interaction-server.ts';
import { buttonClick, modalSubmit, slashCommand, type Actor } from '../helpers/interactions.ts';

export type Data = APIInteractionResponseCallbackData & { custom_id?: string };

const embedText = (e: APIEmbed) =>
  [e.title, e.description, ...(e.fields ?? []).flatMap((f) => [f.name, f.value]), e.footer?.text].join('\n');

/** What a player reads in an answer: its content and its embeds' text. */
export const text = (d: Data) => [d.content ?? '', ...(d.embeds ?? []).map(embedText)].join('\n');

/** The custom_ids of an answer's buttons and menus. */
export const customIds = (d: Data) =>
  (d.components ?? []).flatMap((row) =>
    'components' in row ? row.components.map((c) => ('custom_id' in c ? c.custom_id : '')) : [],
  );

/**
 * A player's view of the market through signed interactions against the rig (read when called, so a file can
 * build this before its rig starts), and the database behind it. Actors get Discord ids after `firstId`.
 */
export function marketClient(rigOf: () => InteractionServer, firstId: bigint) {
  let nextId = firstId;
  const actor = (extra: Partial<Actor> = {}): Actor => {
    nextId++;
    return { id: String(nextId), username: `trader${nextId % 1000n}`, ...extra };
  };

  /** Sends an interaction; checks the response type when given and that every message is ephemeral. */
  async function send(payload: unknown, type?: number): Promise<Data> {
    const { body } = await rigOf().send(payload);
    if (type !== undefined) expect(body.type).toBe(type);
    const data = (body as { data?: Data }).data ?? {};
    if (body.type === 4 || body.type === 7) expect(data.flags).toBe(64);
    return data;
  }

  /** Creates the player's account through /coins and mints `amount` to it; returns the Coinhub user id. */
  async function fund(a: Actor, amount: number): Promise<string> {
    await send(slashCommand('coins', a));
    const user = await rigOf()
      .db.db.selectFrom('users')
      .select('id')
      .where('discord_id', '=', a.id)
      .executeTakeFirstOrThrow();
    await fundWallets(new Ledger(rigOf().db.db), [user.id], amount);
    return user.id;
  }

  const balance = (userId: string) => balanceOf(rigOf().db.db, userId);

  /** /sell (from catalog item `itemId` when given) and its form; returns the new listing's id. */
  async function list(
    seller: Actor,
    title: string,
    price: number,
    quantity: number,
    itemId?: string,
  ): Promise<string> {
    const sellForm = itemId ? `market:sell:${itemId}` : 'market:sell';
    const form = await send(slashCommand('sell', seller, itemId ? { item: itemId } : {}), 9);
    expect(form.custom_id).toBe(sellForm);
    const listed = await send(
      modalSubmit(sellForm, seller, {
        title,
        description: 'Sharp.',
        price: String(price),
        quantity: String(quantity),
      }),
      4,
    );
    expect(listed.content).toMatch(/Listed/);
    return customIds(listed)
      .find((c) => c.startsWith('market:buy:'))!
      .split(':')[2]!;
  }

  /** Buy → confirm step → Confirm; returns the order id and the confirm button's custom_id. */
  async function buy(buyer: Actor, listingId: string, quantity = 1) {
    const prompt = await send(buttonClick(`market:buy:${listingId}`, buyer), 4);
    expect(text(prompt)).toMatch(/Buy \*\*1 × /);
    let confirm = customIds(prompt).find((c) => c.startsWith('market:confirm:'))!;
    if (quantity > 1) {
      const select = customIds(prompt).find((c) => c.startsWith('market:qty:'))!;
      const picked = buttonClick(select, buyer) as { data: Record<string, unknown> };
      picked.data = {
        custom_id: select,
        component_type: ComponentType.StringSelect,
        values: [String(quantity)],
      };
      const updated = await send(picked, 7);
      expect(text(updated)).toMatch(new RegExp(`Buy \\*\\*${quantity} × `));
      confirm = customIds(updated).find((c) => c.startsWith('market:confirm:'))!;
    }
    const placed = await send(buttonClick(confirm, buyer), 7);
    expect(placed.content).toMatch(/Order placed/);
    const orderId = /Order #(\d+)/.exec(text(placed))![1]!;
    return { orderId, confirm };
  }

  const order = (id: string) =>
    rigOf().db.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  const listing = (id: string) =>
    rigOf().db.db.selectFrom('listings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  /** The contents of the DMs the bot sent to a Discord user. */
  const dmsTo = (discordId: string) => {
    const dm = [...rigOf().discord.channels.values()].find(
      (c) => c.type === 1 && c.recipients?.[0]?.id === discordId,
    );
    return dm
      ? rigOf()
          .discord.channelMessages(dm.id)
          .map((m) => String((m as { content?: string }).content ?? ''))
      : [];
  };

  return { actor, send, fund, balance, list, buy, order, listing, dmsTo };
}

/**
 * An official listing (the server shop's; the panel creates these) of catalog item `itemId`, posted to #shop
 * when a shop channel is set up; returns its id. Only official listings may sell roles.
 */
export async function insertOfficialListing(
  rig: InteractionServer,
  itemId: string,
  title: string,
  price: number,
  quantity: number,
): Promise<string> {
  const row = await rig.db.db
    .insertInto('listings')
    .values({
      official: true,
      seller_id: null,
      catalog_item_id: itemId,
      title,
      unit_price: price,
      quantity_total: quantity,
      quantity_left: quantity,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** A `discord_role` catalog item granting `roleId`, for the role grant and revoke tests; returns its id. */
export async function insertRoleItem(rig: InteractionServer, roleId: string, name = 'VIP'): Promise<string> {
  const item = await rig.db.db
    .insertInto('catalog_items')
    .values({ name, kind: 'discord_role', role_id: roleId, base_price: 100 })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(item.id);
}
