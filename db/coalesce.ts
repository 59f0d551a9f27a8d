interface Waiting<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces the calls made during one turn of the event loop into one call of `loadMany`, which answers
 * every key in order (duplicates included). Under load the requests that arrive together share one round trip
 * to Postgres or Redis instead of paying one each; on a quiet server a call waits only for the end of the
 * current turn (setImmediate). When `loadMany` fails for a batch, each of its calls runs again alone, so the
 * failure reaches only the calls that cause it.
 */
export function coalesce<K, V>(
  loadMany: (keys: K[]) => Promise<V[]>,
  maxBatch = 256,
): (key: K) => Promise<V> {
  let pending: Waiting<K, V>[] = [];

  const run = async (batch: Waiting<K, V>[]): Promise<void> => {
    try {
      const values = await loadMany(batch.map((w) => w.key));
      if (values.length !== batch.length)
        throw new Error(`a batch of ${batch.length} keys got ${values.length} answers`);
      batch.forEach((w, i) => w.resolve(values[i]!));
    } catch (err) {
      // One key that makes the statement fail must not fail its neighbours: each runs again alone.
      if (batch.length > 1) await Promise.all(batch.map((w) => run([w])));
      else batch[0]!.reject(err);
    }
  };

  const flush = () => {
    const all = pending;
    pending = [];
    for (let i = 0; i < all.length; i += maxBatch) void run(all.slice(i, i + maxBatch));
  };

  const schedule = onceThisTurn(flush);

  return (key) =>
    new Promise<V>((resolve, reject) => {
      pending.push({ key, resolve, reject });
      schedule();
    });
}

/** `coalesce` with one batch queue per owner (a database handle, a Redis client), made on first use. */
export function coalescePer<O extends object, K, V>(
  loadMany: (owner: O, keys: K[]) => Promise<V[]>,
  maxBatch?: number,
): (owner: O, key: K) => Promise<V> {
  const queues = new WeakMap<O, (key: K) => Promise<V>>();
  return (owner, key) => {
    let load = queues.get(owner);
    if (!load) {
      load = coalesce((keys: K[]) => loadMany(owner, keys), maxBatch);
      queues.set(owner, load);
    }
    return load(key);
  };
}

/**
 * Returns a function that runs `fn` once at the end of this event-loop turn however often it is called
 * before then. Batchers pump through it, so the requests submitted together (the callers a finished batch has
 * just released, a burst of webhooks) start as one batch instead of the first alone and the rest after it.
 */
export function onceThisTurn(fn: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      fn();
    });
  };
}
