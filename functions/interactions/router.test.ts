import { ApplicationIntegrationType, InteractionContextType } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { registry } from './registry.ts';
import { prefixTable } from './router.ts';

describe('custom_id routing', () => {
  const handlers = [
    { prefix: 'hub:card' },
    { prefix: 'market:buy' },
    { prefix: 'market:buy:confirm' },
    { prefix: 'solo' },
  ];
  const find = prefixTable('component', handlers);

  it('matches the whole id or a prefix followed by ":", longest first, and passes the rest as args', () => {
    expect(find('hub:card')).toEqual({ handler: { prefix: 'hub:card' }, args: [] });
    expect(find('market:buy:42')).toEqual({ handler: { prefix: 'market:buy' }, args: ['42'] });
    expect(find('market:buy:confirm:42:3')).toEqual({
      handler: { prefix: 'market:buy:confirm' },
      args: ['42', '3'],
    });
    expect(find('solo:a:b')).toEqual({ handler: { prefix: 'solo' }, args: ['a', 'b'] });
  });

  it('does not match part of a segment or an unknown id', () => {
    expect(find('hub:cardx')).toBeUndefined();
    expect(find('hub')).toBeUndefined();
    expect(find('')).toBeUndefined();
    expect(find('market')).toBeUndefined();
  });

  it('refuses two handlers with one prefix', () => {
    expect(() => prefixTable('modal', [{ prefix: 'a:b' }, { prefix: 'a:b' }])).toThrow(
      'share the custom_id prefix "a:b"',
    );
  });

  it('the registry has unique command names and prefixes short enough to leave room for ids in 100 characters', () => {
    const names = registry.commands.map((c) => c.definition.name);
    expect(new Set(names).size).toBe(names.length);
    expect(() => prefixTable('component', registry.components)).not.toThrow();
    expect(() => prefixTable('modal', registry.modals)).not.toThrow();
    for (const h of [...registry.components, ...registry.modals]) expect(h.prefix.length).toBeLessThan(60);
  });

  it('offers every command only in servers that installed the app, and hides the admin commands from players', () => {
    for (const { definition } of registry.commands) {
      expect(definition.contexts, definition.name).toEqual([InteractionContextType.Guild]);
      expect(definition.integration_types, definition.name).toEqual([
        ApplicationIntegrationType.GuildInstall,
      ]);
    }
    const hidden = registry.commands
      .filter((c) => c.definition.default_member_permissions)
      .map((c) => c.definition.name);
    expect(hidden.sort()).toEqual(['admin', 'audit', 'setup']);
  });
});
