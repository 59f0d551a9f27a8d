import {
  ApplicationCommandOptionType,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { AppError } from '../../../economy/errors.ts';
import { setupGuildJob } from '../../../jobs/definitions.ts';
import { storeInteractionToken } from '../../../jobs/interaction-tokens.ts';
import { actorMay, ADMINS_ONLY } from '../permissions.ts';
import { deferReply } from '../responses.ts';
import type { Command } from '../types.ts';
import { subcommand } from './admin.ts';
import { handleSetupRoles, setupRolesSubcommand } from './setup-roles.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'setup',
  description: 'Create or repair the Coinhub channels and the hub message (admins)',
  default_member_permissions: PermissionFlagsBits.Administrator.toString(),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'channels',
      description: 'Create or repair the Coinhub channels and the hub message',
    },
    setupRolesSubcommand,
  ],
};

/**
 * /setup: channel work takes longer than Discord's 3 seconds, so this answers "thinking…" privately and a job
 * does the work and edits the response. The job id is the interaction id, so a retried delivery runs it once.
 */
export const setupCommand: Command = {
  definition,
  async handle(ctx, interaction) {
    if (subcommand(interaction)?.name === 'roles') return handleSetupRoles(ctx, interaction);
    await actorMay(ctx, 'settings.change', ADMINS_ONLY);
    if (!interaction.guild_id) throw new AppError('guild_only', 'Run /setup inside your server.');
    if (!ctx.deps.cfg.DISCORD_TOKEN) {
      throw new AppError(
        'no_token',
        'The bot token is not configured (DISCORD_TOKEN); ask the host to set it.',
      );
    }
    try {
      await storeInteractionToken(
        ctx.deps.redis,
        ctx.deps.cfg.REDIS_PREFIX,
        interaction.id,
        interaction.token,
      );
    } catch {
      throw new AppError('unavailable', 'Coinhub is busy right now; please try again in a moment.', 503);
    }
    await ctx.deps.queues.enqueue(
      setupGuildJob,
      {
        guildId: interaction.guild_id,
        applicationId: interaction.application_id,
        interactionId: interaction.id,
      },
      { jobId: `setup-${interaction.id}` },
    );
    return deferReply();
  },
};
