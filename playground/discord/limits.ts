/** Discord's limits on the bodies Coinhub sends: what the stand-in refuses, as Discord would. */

/** Discord's limits on a message body; returns what is wrong, or nothing. */
export function messageProblems(body: unknown, { create }: { create: boolean }): string[] {
  const out: string[] = [];
  if (typeof body !== 'object' || body === null) return ['body is not an object'];
  const b = body as { content?: unknown; embeds?: unknown; components?: unknown; flags?: unknown };
  if (b.content !== undefined && (typeof b.content !== 'string' || b.content.length > 2000))
    out.push('content: at most 2000 characters');
  const embeds = (b.embeds ?? []) as Record<string, unknown>[];
  if (!Array.isArray(embeds) || embeds.length > 10) out.push('embeds: at most 10');
  let total = 0;
  for (const [i, e] of (Array.isArray(embeds) ? embeds : []).entries()) {
    const len = (v: unknown) => (typeof v === 'string' ? v.length : 0);
    if (len(e.title) > 256) out.push(`embeds[${i}].title: at most 256`);
    if (len(e.description) > 4096) out.push(`embeds[${i}].description: at most 4096`);
    total += len(e.title) + len(e.description);
    const fields = (e.fields ?? []) as { name?: unknown; value?: unknown }[];
    if (fields.length > 25) out.push(`embeds[${i}].fields: at most 25`);
    for (const [j, f] of fields.entries()) {
      if (typeof f.name !== 'string' || f.name.length === 0 || f.name.length > 256)
        out.push(`embeds[${i}].fields[${j}].name: 1 to 256`);
      if (typeof f.value !== 'string' || f.value.length === 0 || f.value.length > 1024)
        out.push(`embeds[${i}].fields[${j}].value: 1 to 1024`);
      total += len(f.name) + len(f.value);
    }
    const author = e.author as { name?: unknown } | undefined;
    if (author && len(author.name) > 256) out.push(`embeds[${i}].author.name: at most 256`);
    total += len(author?.name);
  }
  if (total > 6000) out.push('embeds: at most 6000 characters in total');
  const rows = (b.components ?? []) as {
    type?: unknown;
    components?: { type?: unknown; custom_id?: unknown; label?: unknown; url?: unknown }[];
  }[];
  if (!Array.isArray(rows) || rows.length > 5) out.push('components: at most 5 rows');
  const ids = new Set<string>();
  for (const [i, row] of (Array.isArray(rows) ? rows : []).entries()) {
    if (
      row.type !== 1 ||
      !Array.isArray(row.components) ||
      row.components.length === 0 ||
      row.components.length > 5
    ) {
      out.push(`components[${i}]: an action row of 1 to 5 components`);
      continue;
    }
    for (const c of row.components) {
      if (c.type === 2 && c.url === undefined) {
        if (typeof c.custom_id !== 'string' || c.custom_id.length === 0 || c.custom_id.length > 100)
          out.push(`components[${i}]: custom_id 1 to 100`);
        else if (ids.has(c.custom_id)) out.push(`components[${i}]: duplicate custom_id ${c.custom_id}`);
        else ids.add(c.custom_id);
      }
      if (typeof c.label === 'string' && c.label.length > 80) out.push(`components[${i}]: label at most 80`);
    }
  }
  const empty = !b.content && embeds.length === 0 && rows.length === 0;
  if (create && empty) out.push('a message needs content, embeds or components');
  return out;
}

const COMMAND_NAME = /^[-_\p{L}\p{N}]{1,32}$/u;

export function commandProblems(body: unknown): string[] {
  if (!Array.isArray(body)) return ['commands: an array'];
  const out: string[] = [];
  const names = new Set<string>();
  for (const [i, c] of (body as Record<string, unknown>[]).entries()) {
    const name = c.name;
    if (typeof name !== 'string' || !COMMAND_NAME.test(name) || name !== name.toLowerCase())
      out.push(`[${i}].name: lowercase, 1 to 32`);
    else if (names.has(name)) out.push(`[${i}].name: duplicate ${name}`);
    else names.add(name);
    if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 100)
      out.push(`[${i}].description: 1 to 100`);
    const options = (c.options ?? []) as Record<string, unknown>[];
    if (options.length > 25) out.push(`[${i}].options: at most 25`);
    let optionalSeen = false;
    for (const o of options) {
      if (typeof o.name !== 'string' || !COMMAND_NAME.test(o.name)) out.push(`[${i}].options.name`);
      if (typeof o.description !== 'string' || o.description.length < 1 || o.description.length > 100)
        out.push(`[${i}].options.description`);
      if (o.required && optionalSeen) out.push(`[${i}].options: required options must come first`);
      if (!o.required) optionalSeen = true;
    }
  }
  return out;
}
