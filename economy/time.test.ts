import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { addDays, dayOf, dayStart, nextDayStart, startOfDate } from './time.ts';

const at = (iso: string) => new Date(iso);
const hours = (a: Date, b: Date) => (b.getTime() - a.getTime()) / 3_600_000;

describe('UTC days', () => {
  it('runs from midnight to midnight UTC', () => {
    const now = at('2026-11-26T23:59:59.999Z');
    expect(dayOf(now, 'UTC')).toBe('2026-11-26');
    expect(dayStart(now, 'UTC')).toEqual(at('2026-11-26T00:00:00Z'));
    expect(nextDayStart(now, 'UTC')).toEqual(at('2026-11-27T00:00:00Z'));
    expect(dayOf(at('2026-11-27T00:00:00Z'), 'UTC')).toBe('2026-11-27');
  });

  it('crosses months, years and leap days', () => {
    expect(nextDayStart(at('2026-12-31T12:00:00Z'), 'UTC')).toEqual(at('2027-01-01T00:00:00Z'));
    expect(nextDayStart(at('2028-02-28T12:00:00Z'), 'UTC')).toEqual(at('2028-02-29T00:00:00Z'));
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('Europe/Berlin across DST', () => {
  const tz = 'Europe/Berlin';

  it('has a 23-hour day when clocks go forward', () => {
    const now = at('2026-03-29T10:00:00Z');
    expect(dayOf(now, tz)).toBe('2026-03-29');
    expect(dayStart(now, tz)).toEqual(at('2026-03-28T23:00:00Z'));
    expect(nextDayStart(now, tz)).toEqual(at('2026-03-29T22:00:00Z'));
    expect(hours(dayStart(now, tz), nextDayStart(now, tz))).toBe(23);
  });

  it('has a 25-hour day when clocks go back', () => {
    const now = at('2026-10-25T01:30:00Z');
    expect(dayStart(now, tz)).toEqual(at('2026-10-24T22:00:00Z'));
    expect(nextDayStart(now, tz)).toEqual(at('2026-10-25T23:00:00Z'));
    expect(hours(dayStart(now, tz), nextDayStart(now, tz))).toBe(25);
  });

  it('switches day exactly at local midnight on both sides of the switch', () => {
    expect(dayOf(at('2026-03-29T21:59:59.999Z'), tz)).toBe('2026-03-29');
    expect(dayOf(at('2026-03-29T22:00:00Z'), tz)).toBe('2026-03-30');
    expect(dayOf(at('2026-03-28T22:59:59.999Z'), tz)).toBe('2026-03-28');
    expect(dayOf(at('2026-03-28T23:00:00Z'), tz)).toBe('2026-03-29');
  });
});

describe('zones whose switch skips or repeats midnight', () => {
  const tz = 'America/Santiago';

  it('starts the day at the switch when midnight does not exist', () => {
    // 2026-09-06 00:00 -04 jumps to 01:00 -03, i.e. 04:00Z.
    expect(startOfDate('2026-09-06', tz)).toEqual(at('2026-09-06T04:00:00Z'));
    expect(dayOf(at('2026-09-06T03:59:59.999Z'), tz)).toBe('2026-09-05');
    expect(nextDayStart(at('2026-09-06T12:00:00Z'), tz)).toEqual(at('2026-09-07T03:00:00Z'));
  });

  it('keeps the repeated hour in the old day when clocks go back at midnight', () => {
    // 2026-04-05 00:00 -03 goes back to 2026-04-04 23:00 -04: Saturday lasts 25 hours.
    expect(startOfDate('2026-04-05', tz)).toEqual(at('2026-04-05T04:00:00Z'));
    expect(hours(startOfDate('2026-04-04', tz), startOfDate('2026-04-05', tz))).toBe(25);
  });
});

it('handles zones far from UTC and with quarter-hour offsets', () => {
  expect(startOfDate('2026-11-26', 'Pacific/Kiritimati')).toEqual(at('2026-11-25T10:00:00Z'));
  expect(startOfDate('2026-11-26', 'Pacific/Chatham')).toEqual(at('2026-11-25T10:15:00Z'));
  expect(dayOf(at('2026-11-26T11:00:00Z'), 'Pacific/Pago_Pago')).toBe('2026-11-26');
  expect(dayOf(at('2026-11-26T10:59:59Z'), 'Pacific/Pago_Pago')).toBe('2026-11-25');
});

it('refuses an unknown zone with a clear error', () => {
  expect(() => dayOf(new Date(), 'Mars/Olympus')).toThrowError(AppError);
  expect(() => dayOf(new Date(), 'Mars/Olympus')).toThrowError(/Unknown time zone "Mars\/Olympus"/);
});
