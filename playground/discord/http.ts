/** Small pieces the stand-in's route modules share. */

const EPOCH = 1_420_070_400_000n;
let seq = 0n;

/** A fresh Discord-style id (time-ordered, unique within the process). */
export const snowflake = (): string => String(((BigInt(Date.now()) - EPOCH) << 22n) | (++seq & 4095n));

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An error body shaped like Discord's (`code`, `message`, optional `errors`). */
export const discordError = (status: number, code: number, message: string, errors?: unknown): Reply => ({
  status,
  body: { code, message, ...(errors ? { errors } : {}) },
});
