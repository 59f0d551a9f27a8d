import type { z } from 'zod';
import { AppError } from '../errors.ts';

/** Parses market input; the first problem becomes a 400 AppError naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw new AppError('invalid_input', field ? `${field}: ${issue.message}` : issue.message, 400, { field });
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
