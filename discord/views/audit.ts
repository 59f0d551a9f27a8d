import type { APIEmbed } from 'discord-api-types/v10';
import type { AuditEntry } from '../../economy/audit.ts';
import { COLOR, mention, relativeTime } from './format.ts';

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const compact = (value: unknown) => (value === null || value === undefined ? '—' : JSON.stringify(value));

/** One audit row in a line or two: when, what, who (role, source), why, and what changed. */
function auditLine(e: AuditEntry, actorDiscordId: string | null): string {
  const by = actorDiscordId ? mention(actorDiscordId) : 'the system';
  const role = [e.actorRole, e.source].filter(Boolean).join(', ');
  const target = e.target && e.target.type !== 'user' ? ` ${e.target.type} #${e.target.id}` : '';
  const head = `${relativeTime(e.at)} **${e.action}**${target} by ${by} (${role})${e.reason ? ` — “${clip(e.reason, 200)}”` : ''}`;
  const change =
    e.before !== null || e.after !== null
      ? `\n  ${clip(`${compact(e.before)} → ${compact(e.after)}`, 300)}`
      : '';
  return head + change;
}

/** `/audit user:` — the newest audit entries about a player or by them. */
export function renderAuditList(
  target: { discordId: string },
  entries: { entry: AuditEntry; actorDiscordId: string | null }[],
): APIEmbed {
  const lines: string[] = [];
  let used = 0;
  for (const { entry, actorDiscordId } of entries) {
    const line = auditLine(entry, actorDiscordId);
    if (used + line.length + 2 > 4000) break;
    lines.push(line);
    used += line.length + 2;
  }
  return {
    title: 'Audit log',
    color: COLOR,
    description:
      lines.length > 0
        ? `Newest entries about or by ${mention(target.discordId)}:\n\n${lines.join('\n\n')}`
        : `No audit entries about or by ${mention(target.discordId)}.`,
  };
}
