import type { z } from 'zod';
import { AppError } from '../errors.ts';
import { invalidInputSentence, type FieldWords } from '../words.ts';

/** The market's fields as players and admins call them. */
const MARKET_FIELDS: Record<string, FieldWords> = {
  unitPrice: { name: 'price', coins: true },
  basePrice: { name: 'base price', coins: true },
  quantity: { name: 'quantity' },
  title: { name: 'title' },
  description: { name: 'description' },
  name: { name: 'name' },
  catalogItemId: { name: 'catalog item' },
  guardOverrideReason: { name: 'reason for overriding the price guard' },
  reason: { name: 'reason' },
  roleId: { name: 'Discord role' },
  minecraftItem: { name: 'Minecraft item' },
  minecraftCommand: { name: 'Minecraft command' },
};

/**
 * Parses market input; the first problem becomes a 400 AppError with a sentence a person can read, and the
 * field's name (for the panel) in its details.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw new AppError('invalid_input', invalidInputSentence(issue, MARKET_FIELDS), 400, { field });
}

const isUniqueViolation = (err: unknown, constraint: string) =>
  (err as { code?: string }).code === '23505' && (err as { constraint?: string }).constraint === constraint;

/** Runs `fn`; a unique violation of `constraint` becomes `error`. */
export async function mapUniqueViolation<T>(fn: () => Promise<T>, constraint: string, error: AppError) {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err, constraint)) throw error;
    throw err;
  }
}
