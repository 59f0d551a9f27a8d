import type { z } from 'zod';
import { coins, formatNumber } from '../config/numbers.ts';

/** How Coinhub writes to people: sentences instead of schema messages, numbers as config/numbers.ts writes them. */

/** The refusal for lack of coins, which always says the balance. */
export const notEnoughCoins = (balance: number, needed: number): string =>
  `Not enough coins: you have ${coins(balance)} and that needs ${coins(needed)}.`;

/** How a field is called in a sentence, and whether its number counts coins. */
export interface FieldWords {
  name: string;
  coins?: boolean;
}

const sentenceCase = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `unitPrice` → `unit price`, for fields without words of their own. */
const spaced = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/**
 * One validation problem as a sentence in the product's voice ("The price must be at least 1 coin."), from the
 * zod issue and the words for its field; never a schema path or a zod phrase. A schema's own message is a
 * predicate in lower case ("must be one line") and completes the sentence; zod's defaults (capitalised) never
 * reach the reader.
 */
export function invalidInputSentence(
  issue: z.core.$ZodIssue,
  fields: Record<string, FieldWords> = {},
): string {
  const key = String(issue.path[issue.path.length - 1] ?? '');
  const field = fields[key] ?? { name: key ? spaced(key) : 'value' };
  const the = sentenceCase(`the ${field.name}`);
  const amount = (n: number | bigint) => (field.coins ? coins(Number(n)) : formatNumber(Number(n)));
  if (/^[a-z]/.test(issue.message) && issue.code !== 'too_small' && issue.code !== 'too_big')
    return `${the} ${issue.message.replace(/\.$/, '')}.`;
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1
          ? `${the} cannot be empty.`
          : `${the} needs at least ${formatNumber(Number(issue.minimum))} characters.`;
      return `${the} must be at least ${amount(issue.minimum)}.`;
    case 'too_big':
      if (issue.origin === 'string')
        return `${the} can be at most ${formatNumber(Number(issue.maximum))} characters long.`;
      return `${the} can be at most ${amount(issue.maximum)}.`;
    case 'invalid_type':
      return issue.expected === 'number' || issue.expected === 'int'
        ? `${the} must be a whole number${field.coins ? ' of coins' : ''}.`
        : `${the} is missing or not valid.`;
    case 'not_multiple_of':
      return `${the} must be a whole number${field.coins ? ' of coins' : ''}.`;
    case 'invalid_value':
      return `${the} must be one of: ${issue.values.map(String).join(', ')}.`;
    default:
      return `${the} is not valid.`;
  }
}
