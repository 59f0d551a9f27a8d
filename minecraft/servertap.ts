import { z } from 'zod';

/** How long one call to the server API may take; a delivery claims its voucher for longer than this. */
export const SERVER_API_TIMEOUT_MS = 10_000;

/** The server could not be reached or answered that it cannot serve now: worth another try later. */
export class MinecraftUnavailable extends Error {
  override name = 'MinecraftUnavailable';
}

/** The server refused the request itself (e.g. an unknown command): trying again will not help. */
export class MinecraftRefused extends Error {
  override name = 'MinecraftRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const players = z.array(z.object({ uuid: z.string(), displayName: z.string().optional() }).loose());

export interface OnlinePlayer {
  uuid: string;
  name: string | null;
}

export interface MinecraftServerApi {
  /** Players online now (`GET /v1/players`). */
  onlinePlayers(): Promise<OnlinePlayer[]>;
  /** Runs one console command (`POST /v1/server/exec`, form field `command`). */
  exec(command: string): Promise<void>;
}

/**
 * A client of a ServerTap-compatible API at `baseUrl`, authenticated with the `key` header. Errors never carry
 * the key: a 401/403 says the key was refused (a configuration problem, retried until an admin fixes it).
 */
export function createServerTapClient(baseUrl: string, key: string | undefined): MinecraftServerApi {
  const root = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = key ? { key } : {};

  async function call(method: 'GET' | 'POST', path: string, body?: URLSearchParams): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${root}${path}`, {
        method,
        headers: body ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' } : headers,
        body,
        signal: AbortSignal.timeout(SERVER_API_TIMEOUT_MS),
      });
    } catch (err) {
      const why = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'is unreachable';
      throw new MinecraftUnavailable(`the Minecraft server API ${why}`);
    }
    if (res.ok) return res;
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) {
      throw new MinecraftUnavailable(`the Minecraft server API refused MINECRAFT_API_KEY (${res.status})`);
    }
    if (res.status === 429 || res.status >= 500) {
      throw new MinecraftUnavailable(`the Minecraft server API answered ${res.status}`);
    }
    throw new MinecraftRefused(res.status, `the Minecraft server API refused the request (${res.status})`);
  }

  return {
    async onlinePlayers() {
      const res = await call('GET', '/v1/players');
      const parsed = players.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success)
        throw new MinecraftUnavailable('the Minecraft server API sent an unreadable player list');
      return parsed.data.map((p) => ({ uuid: p.uuid.toLowerCase(), name: p.displayName ?? null }));
    },
    async exec(command) {
      const res = await call('POST', '/v1/server/exec', new URLSearchParams({ command }));
      await res.body?.cancel();
    },
  };
}
