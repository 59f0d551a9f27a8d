import { randomInt } from 'node:crypto';

/** Letters and digits players cannot misread: no 0/O, 1/I. 32 symbols, 5 bits each. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

const randomCode = (length: number) =>
  Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/** A link code: 8 symbols (40 bits), short-lived and limited per user, so a guess has no real chance. */
export const newLinkCode = () => randomCode(8);

/** A voucher code: 16 symbols (80 bits) in groups of four, `ABCD-EFGH-JKLM-NPQR`. */
export const newVoucherCode = () => randomCode(16).replace(/(.{4})(?!$)/g, '$1-');
