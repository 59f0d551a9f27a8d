import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIButtonComponent,
} from 'discord-api-types/v10';
import type { Voucher } from '../../economy/minecraft/vouchers.ts';

export const MINECRAFT_IDS = { deliver: 'mc:deliver' } as const;

const STATES: Record<Voucher['state'], string> = {
  issued: 'not redeemed yet',
  queued: 'redeemed, being delivered',
  waiting: 'redeemed, delivered when you join the server',
  sending: 'being delivered',
  delivered: 'delivered',
  failed: 'delivery failed; an admin will retry or refund it',
};

/** A voucher as its buyer sees it: the code, how to redeem it and until when, or how its delivery goes. */
export function voucherText(v: Voucher): string {
  if (v.state !== 'issued') return `\`${v.code}\` · ${STATES[v.state]}`;
  return `\`${v.code}\` · redeem in game with \`/coinhub redeem ${v.code}\` before <t:${Math.floor(v.expiresAt.getTime() / 1000)}:f>`;
}

/** "Deliver now" for a buyer whose Minecraft account is linked: redeems the voucher for that account. */
export function deliverNowRow(v: Voucher): APIActionRowComponent<APIButtonComponent> {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Success,
        label: 'Deliver now to my Minecraft account',
        custom_id: `${MINECRAFT_IDS.deliver}:${v.id}`,
      },
    ],
  };
}
