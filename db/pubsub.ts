import type { Redis } from 'ioredis';
import { createRedis } from './redis.ts';

export type MessageHandler = (message: string) => void;

/**
 * One Redis subscriber connection per process, shared by every listener (settings invalidation, every SSE
 * client): a thousand stream clients cost one subscription, not a thousand connections. Publishing goes
 * through the process's command connection.
 */
export class PubSub {
  private readonly sub: Redis;
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private readonly subscribed = new Map<string, Promise<void>>();

  constructor(url: string, name: string) {
    this.sub = createRedis(url, 'blocking', name);
    this.sub.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
    // ioredis resubscribes after a reconnect; what was published meanwhile is lost, so listeners catch up.
    let connectedBefore = false;
    this.sub.on('ready', () => {
      if (connectedBefore) for (const handler of this.reconnectHandlers) handler();
      connectedBefore = true;
    });
  }

  /** Calls `handler` for every message on `channel` until the returned function is called. */
  async subscribe(channel: string, handler: MessageHandler): Promise<() => void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      this.subscribed.set(
        channel,
        this.sub.subscribe(channel).then(() => undefined),
      );
    }
    set.add(handler);
    const unsubscribe = () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        this.subscribed.delete(channel);
        void this.sub.unsubscribe(channel).catch(() => undefined);
      }
    };
    // Resolves once Redis confirmed the subscription, so a caller may then read what happened before it.
    try {
      await this.subscribed.get(channel);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  /** Calls `handler` after the subscriber connection came back from a drop (messages may have been missed). */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  /** Drops the subscriber connection (nothing is pending on it that a graceful quit would wait for). */
  close(): void {
    this.handlers.clear();
    this.subscribed.clear();
    this.sub.disconnect();
  }
}

/** Redis channels, under the installation's prefix. */
export const channels = {
  /** One feed event per transfer (docs/feed.md), published by the feed relay. */
  tx: (prefix: string) => `${prefix}:tx`,
  /** "The economy settings changed": every replica drops its cached copy. */
  settings: (prefix: string) => `${prefix}:settings`,
};
