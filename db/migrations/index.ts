import type { Migration } from 'kysely';
import * as m0001 from './2026_11_26_0001_create_core_tables.ts';
import * as m0002 from './2026_11_26_0002_create_ledger_apply.ts';
import * as m0100 from './2026_11_26_0100_create_quests.ts';
import * as m0101 from './2026_11_26_0101_create_wallet_indexes.ts';
import * as m0200 from './2026_11_26_0200_create_market_tables.ts';
import * as m0400 from './2026_11_26_0400_create_feed_relay.ts';
import * as m0500 from './2026_11_26_0500_create_wallet_summary.ts';
import * as m0600 from './2026_11_26_0600_add_order_role_granted.ts';
import * as m0700 from './2026_11_26_0700_ledger_apply_index_lookups.ts';
import * as m1100 from './2026_11_27_0100_create_panel_api_tables.ts';
import * as mMc0100 from './2026_12_01_0100_create_minecraft.ts';
import * as mMc0200 from './2026_12_01_0200_create_minecraft_grant.ts';
import * as m1201_1000 from './2026_12_01_1000_create_api_tokens.ts';
import * as m1201 from './2026_12_01_2200_restrict_server_item_listings.ts';
import * as mMc2300 from './2026_12_01_2300_add_refund_reason_delivery_failed.ts';

/** Every migration by name; Kysely runs them in name order. Add new ones here, never edit old ones. */
export const migrations: Record<string, Migration> = {
  '2026_11_26_0001_create_core_tables': m0001,
  '2026_11_26_0002_create_ledger_apply': m0002,
  '2026_11_26_0100_create_quests': m0100,
  '2026_11_26_0101_create_wallet_indexes': m0101,
  '2026_11_26_0200_create_market_tables': m0200,
  '2026_11_26_0400_create_feed_relay': m0400,
  '2026_11_26_0500_create_wallet_summary': m0500,
  '2026_11_26_0600_add_order_role_granted': m0600,
  '2026_11_26_0700_ledger_apply_index_lookups': m0700,
  '2026_11_27_0100_create_panel_api_tables': m1100,
  '2026_12_01_0100_create_minecraft': mMc0100,
  '2026_12_01_0200_create_minecraft_grant': mMc0200,
  '2026_12_01_1000_create_api_tokens': m1201_1000,
  '2026_12_01_2200_restrict_server_item_listings': m1201,
  '2026_12_01_2300_add_refund_reason_delivery_failed': mMc2300,
};
