import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
  type APIComponentInMessageActionRow,
} from 'discord-api-types/v10';
import { COLOR } from './format.ts';

/** The hub's buttons; the interaction router routes these custom_ids. */
export const HUB_BUTTONS = {
  card: 'hub:card',
  shop: 'hub:shop',
  quests: 'hub:quests',
  daily: 'hub:daily',
  help: 'hub:help',
} as const;

type HubButtonStyle = APIButtonComponentWithCustomId['style'];

const button = (
  custom_id: string,
  label: string,
  emoji: string,
  style: HubButtonStyle = ButtonStyle.Secondary,
) =>
  ({
    type: ComponentType.Button,
    custom_id,
    label,
    style,
    emoji: { name: emoji },
  }) satisfies APIButtonComponentWithCustomId;

/** The Coin Hub: the same embed and five buttons for /coins (ephemeral) and the persistent #coin-hub message. */
export function renderHub(): {
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
} {
  return {
    embeds: [
      {
        title: 'Coin Hub',
        color: COLOR,
        description: [
          'Everything you do here is private to you.',
          '',
          '**My Card**: your balance, streak and latest transactions',
          '**Shop**: spend coins on the marketplace',
          '**Quests**: what you can earn right now',
          '**Claim Daily**: your daily reward; come back every day to grow your streak',
          '**Help**: how coins work',
        ].join('\n'),
      },
    ],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          button(HUB_BUTTONS.card, 'My Card', '🪪', ButtonStyle.Primary),
          button(HUB_BUTTONS.shop, 'Shop', '🛒'),
          button(HUB_BUTTONS.quests, 'Quests', '🎯'),
          button(HUB_BUTTONS.daily, 'Claim Daily', '🎁', ButtonStyle.Success),
          button(HUB_BUTTONS.help, 'Help', '❔'),
        ],
      },
    ],
  };
}
