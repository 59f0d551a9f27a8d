import { Hono } from 'hono';
import { linkAccount } from '../../economy/minecraft/links.ts';
import { addQuestProgress, playerJoined, playerQuit } from '../../economy/minecraft/players.ts';
import { rewardGrantsFor } from '../../economy/minecraft/rewards.ts';
import { runEvent, type EventAnswer, type EventMeta } from '../../economy/minecraft/events.ts';
import { redeemVoucher } from '../../economy/minecraft/vouchers.ts';
import { notifyLinked, queueDelivery } from '../../jobs/minecraft-events.ts';
import { EVENT_TYPES, minecraftEvent, type MinecraftEvent } from '../../minecraft/contract.ts';
import { createWebhookVerifier, WEBHOOK_HEADERS } from '../../minecraft/signing.ts';
import { limitBody } from '../body-limit.ts';
import type { AppDeps, AppEnv } from '../context.ts';

/** The plugin's events are small; anything larger is refused before its signature is checked. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

/** Event ids become ledger keys (`minecraft:<id>`, at most 200 characters). */
export const MAX_WEBHOOK_ID = 180;

const error = (code: string, message: string) => ({ error: { code, message } });

/** Runs a verified event; every type but `reward.grant` (batched) is one transaction with its dedupe claim. */
async function dispatch(deps: AppDeps, meta: EventMeta, event: MinecraftEvent): Promise<EventAnswer> {
  const now = deps.now();
  const { db, queues, log } = deps;
  switch (event.type) {
    case 'reward.grant': {
      const grants = rewardGrantsFor(
        db,
        { dailyCap: deps.cfg.MINECRAFT_REWARD_DAILY_CAP, timeZone: deps.cfg.DAILY_TIMEZONE },
        deps.now,
      );
      const { answer } = await grants.grant({ meta, ...event.data });
      return answer;
    }
    case 'account.link': {
      const r = await runEvent(db, meta, now, async (trx) => {
        const linked = await linkAccount(trx, event.data, now);
        return {
          message: linked.unchanged
            ? `${linked.name} was already linked to this Discord account.`
            : `${linked.name} is now linked to your Discord account.`,
          effects: linked,
        };
      });
      if (r.effects && !r.effects.unchanged && !(await notifyLinked(queues, r.effects.userId, now)))
        log.warn({ userId: r.effects.userId }, 'link DM not queued');
      return r.answer;
    }
    case 'voucher.redeem': {
      const { code, uuid, name } = event.data;
      const r = await runEvent(db, meta, now, async (trx) => {
        const voucher = await redeemVoucher(trx, { code }, { uuid, name }, now);
        return { message: 'Voucher accepted: your item is on its way.', effects: voucher.id };
      });
      // Not queued (Redis down): the voucher stays queued and the sweeper queues it.
      if (r.effects && !(await queueDelivery(queues, r.effects, 'redeem')))
        log.warn({ voucherId: r.effects }, 'delivery not queued; the sweeper will');
      return r.answer;
    }
    case 'quest.progress': {
      const r = await runEvent(db, meta, now, async (trx) => {
        const value = await addQuestProgress(trx, event.data, now);
        return { message: `${event.data.counter}: ${value.toLocaleString('en-US')}`, effects: null };
      });
      return r.answer;
    }
    case 'player.join': {
      const r = await runEvent(db, meta, now, async (trx) => {
        const waiting = await playerJoined(trx, { ...event.data, server: event.server }, now);
        return {
          message:
            waiting.length > 0
              ? `Welcome back! ${waiting.length} purchase${waiting.length === 1 ? ' is' : 's are'} on the way.`
              : 'Welcome back!',
          effects: waiting,
        };
      });
      for (const id of r.effects ?? []) {
        if (!(await queueDelivery(queues, id, `join-${now.getTime()}`)))
          log.warn({ voucherId: id }, 'delivery not queued; the sweeper will');
      }
      return r.answer;
    }
    case 'player.quit': {
      const r = await runEvent(db, meta, now, async (trx) => {
        await playerQuit(trx, { ...event.data, server: event.server }, now);
        return { message: 'See you soon!', effects: null };
      });
      return r.answer;
    }
  }
}

function unreadable(json: unknown) {
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    return error('unknown_type', `Unknown event type; expected one of ${EVENT_TYPES.join(', ')}.`);
  }
  const issue = minecraftEvent.safeParse(json).error!.issues[0]!;
  return error('invalid_event', `${issue.path.join('.') || 'body'}: ${issue.message}`);
}

/**
 * `POST /webhooks/minecraft`: the Minecraft server's signed events (docs/minecraft.md). Over 64 KiB → 413; a
 * missing, wrong or stale signature → 401; both before anything is parsed or written. A verified event is
 * handled once per `webhook-id`: a repeat gets the first answer.
 */
export function minecraftWebhookRoutes(deps: AppDeps) {
  const secret = deps.cfg.REDEMPTION_WEBHOOK_SECRET;
  const verify = secret ? createWebhookVerifier(secret) : null;
  return new Hono<AppEnv>().post('/webhooks/minecraft', limitBody(MAX_WEBHOOK_BYTES), async (c) => {
    if (!verify) {
      return c.json(error('webhook_disabled', 'REDEMPTION_WEBHOOK_SECRET is not set on this server.'), 503);
    }
    const body = await c.req.text();
    if (Buffer.byteLength(body) > MAX_WEBHOOK_BYTES) {
      return c.json(error('body_too_large', 'Request body is too large.'), 413);
    }
    const webhookId = c.req.header(WEBHOOK_HEADERS.id);
    const problem = verify(body, {
      [WEBHOOK_HEADERS.id]: webhookId,
      [WEBHOOK_HEADERS.timestamp]: c.req.header(WEBHOOK_HEADERS.timestamp),
      [WEBHOOK_HEADERS.signature]: c.req.header(WEBHOOK_HEADERS.signature),
    });
    if (problem) {
      c.get('log').info({ problem }, 'minecraft webhook refused');
      return c.json(error('invalid_signature', 'The webhook signature or timestamp is not valid.'), 401);
    }
    if (webhookId!.length > MAX_WEBHOOK_ID) {
      return c.json(error('invalid_event', `webhook-id is longer than ${MAX_WEBHOOK_ID} characters.`), 400);
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return c.json(error('invalid_event', 'The body is not JSON.'), 400);
    }
    const parsed = minecraftEvent.safeParse(json);
    if (!parsed.success) return c.json(unreadable(json), 400);
    const event = parsed.data;
    const answer = await dispatch(
      deps,
      { webhookId: webhookId!, type: event.type, server: event.server },
      event,
    );
    return c.json(answer.body, answer.status as 200);
  });
}
