import { AppError } from './errors.ts';

/**
 * Day windows in an IANA time zone. A day runs from the first instant its local date is shown to the first
 * instant the next one is, so days around a DST switch last 23 or 25 hours, and a day whose midnight a
 * switch skips (America/Santiago in September) starts at the switch.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new AppError(
        'invalid_time_zone',
        `Unknown time zone "${timeZone}"; use an IANA name like Europe/Berlin.`,
      );
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws AppError('invalid_time_zone') unless `timeZone` is an IANA zone this runtime knows. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(at: number, timeZone: string): WallClock {
  const w: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type in w) w[part.type as keyof WallClock] = Number(part.value);
  }
  return w;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const dateString = (year: number, month: number, day: number) => `${pad(year, 4)}-${pad(month)}-${pad(day)}`;

function parseDate(date: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new AppError('invalid_date', `"${date}" is not a YYYY-MM-DD date.`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** The calendar date `days` after `date` (both 'YYYY-MM-DD'). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = parseDate(date);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return dateString(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

function localDate(at: number, timeZone: string): string {
  const w = wallClock(at, timeZone);
  return dateString(w.year, w.month, w.day);
}

/** Milliseconds the zone's wall clock is ahead of UTC at instant `at`. */
function offsetAt(at: number, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wallAsUtc - Math.floor(at / 1000) * 1000;
}

const HOUR = 3_600_000;

/** The instant the local date `date` starts in `timeZone`. */
export function startOfDate(date: string, timeZone: string): Date {
  const [y, m, d] = parseDate(date);
  const midnightAsUtc = Date.UTC(y, m - 1, d);
  // Two rounds find local midnight whenever it exists, including right after a switch.
  let guess = midnightAsUtc - offsetAt(midnightAsUtc, timeZone);
  guess = midnightAsUtc - offsetAt(guess, timeZone);
  if (localDate(guess, timeZone) === date && localDate(guess - 1, timeZone) < date) return new Date(guess);
  // Midnight was skipped by a switch: search for the first instant showing `date` (offsets span -12 h..+14 h).
  let lo = midnightAsUtc - 15 * HOUR;
  let hi = midnightAsUtc + 13 * HOUR;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid, timeZone) >= date) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

interface DayWindow {
  date: string;
  start: number;
  end: number;
}

/** The last day window computed per zone: nearly every call falls in the current day, so it answers without Intl. */
const lastWindow = new Map<string, DayWindow>();

function windowOf(now: Date, timeZone: string): DayWindow {
  const at = now.getTime();
  const cached = lastWindow.get(timeZone);
  if (cached && cached.start <= at && at < cached.end) return cached;
  const date = localDate(at, timeZone);
  const window = {
    date,
    start: startOfDate(date, timeZone).getTime(),
    end: startOfDate(addDays(date, 1), timeZone).getTime(),
  };
  lastWindow.set(timeZone, window);
  return window;
}

/** The local date of `now` in `timeZone`, as 'YYYY-MM-DD'. */
export function dayOf(now: Date, timeZone: string): string {
  return windowOf(now, timeZone).date;
}

/** The instant the local day containing `now` started. */
export function dayStart(now: Date, timeZone: string): Date {
  return new Date(windowOf(now, timeZone).start);
}

/** The instant the local day after the one containing `now` starts. */
export function nextDayStart(now: Date, timeZone: string): Date {
  return new Date(windowOf(now, timeZone).end);
}
