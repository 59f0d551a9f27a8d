import { z } from 'zod';

/**
 * The Minecraft webhook contract (docs/minecraft.md): what the server-side plugin POSTs to
 * `/webhooks/minecraft`, signed with Standard Webhooks, and what it gets back.
 */

/** Minecraft Java account names. */
export const PLAYER_NAME = /^[A-Za-z0-9_]{3,16}$/;
/** A link code as `/link` gives it: 8 characters without look-alikes (no 0, 1, I, O). */
export const LINK_CODE = /^[A-HJ-NP-Z2-9]{8}$/;
/** A voucher code: four groups of four characters of the same alphabet. */
export const VOUCHER_CODE = /^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/;
/** Quest counters are names the quests configuration refers to. */
export const COUNTER_NAME = /^[a-z0-9_.:-]{1,64}$/;

const uuid = z.uuid('must be a UUID').transform((u) => u.toLowerCase());
const name = z.string().regex(PLAYER_NAME, 'must be a Minecraft name (3-16 letters, digits or _)');
const player = { uuid, name };
/** Codes are typed by players: case and the dashes of a voucher are forgiven. */
const typed = (pattern: RegExp, what: string) =>
  z
    .string()
    .max(40)
    .transform((c) => c.trim().toUpperCase())
    .pipe(z.string().regex(pattern, `must be a ${what}`));

export const MAX_REWARD = 1_000_000;
export const MAX_INCREMENT = 1_000_000;

const event = <T extends string, D extends z.ZodRawShape>(type: T, data: D) =>
  z
    .object({
      type: z.literal(type),
      server: z.string().trim().min(1).max(64),
      data: z.object(data).strict(),
    })
    .strict();

export const minecraftEvent = z.discriminatedUnion('type', [
  event('account.link', { code: typed(LINK_CODE, 'link code of 8 characters'), ...player }),
  event('voucher.redeem', {
    code: typed(VOUCHER_CODE, 'voucher code such as ABCD-EFGH-JKLM-NPQR'),
    ...player,
  }),
  event('reward.grant', {
    uuid,
    amount: z.number().int('must be a whole number of coins').min(1).max(MAX_REWARD),
    source: z.string().trim().min(1).max(100),
  }),
  event('quest.progress', {
    uuid,
    counter: z.string().regex(COUNTER_NAME, 'must be a counter name (a-z, 0-9, _ . : -)'),
    increment: z.number().int('must be a whole number').min(1).max(MAX_INCREMENT),
  }),
  event('player.join', player),
  event('player.quit', player),
]);

export type MinecraftEvent = z.infer<typeof minecraftEvent>;
export type MinecraftEventType = MinecraftEvent['type'];
export const EVENT_TYPES: readonly MinecraftEventType[] = minecraftEvent.options.map(
  (o) => o.shape.type.value,
);

/** What the plugin gets back; `message` is meant to be shown to the player. */
export type WebhookAnswer = { ok: true; message: string } | { error: { code: string; message: string } };
