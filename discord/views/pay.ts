import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
} from 'discord-api-types/v10';
import { coins, COLOR, COLOR_OK, mention } from './format.ts';

/** custom_id prefixes of the confirm step; the suffix is the payment intent's id. */
export const PAY_BUTTONS = { confirm: 'pay:confirm', cancel: 'pay:cancel' } as const;

export interface PayPrompt {
  intentId: string;
  toDiscordId: string;
  amount: number;
  note: string | null;
}

/** "Send 50 coins to @x?" with Confirm and Cancel. */
export function renderPayConfirm(p: PayPrompt): {
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
} {
  return {
    embeds: [
      {
        title: 'Confirm payment',
        color: COLOR,
        description: `Send **${coins(p.amount)}** to ${mention(p.toDiscordId)}?${p.note ? `\nNote: “${p.note}”` : ''}`,
      },
    ],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.Button,
            style: ButtonStyle.Success,
            label: 'Confirm',
            custom_id: `${PAY_BUTTONS.confirm}:${p.intentId}`,
          },
          {
            type: ComponentType.Button,
            style: ButtonStyle.Secondary,
            label: 'Cancel',
            custom_id: `${PAY_BUTTONS.cancel}:${p.intentId}`,
          },
        ],
      },
    ],
  };
}

/** The outcome that replaces the prompt. */
export function renderPaySent(p: {
  toDiscordId: string;
  amount: number;
  balance: number;
  paidToday: number;
  dailyLimit: number;
}): APIEmbed {
  return {
    title: 'Payment sent',
    color: COLOR_OK,
    description: `You sent **${coins(p.amount)}** to ${mention(p.toDiscordId)}.`,
    fields: [
      { name: 'Your balance', value: coins(p.balance), inline: true },
      { name: 'Sent today', value: `${coins(p.paidToday)} of ${coins(p.dailyLimit)}`, inline: true },
    ],
  };
}
