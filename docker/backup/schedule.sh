#!/bin/sh
# The backup service's entry point.
#
#   schedule.sh          runs backup.sh every day at BACKUP_AT (HH:MM, container time zone TZ; default 03:00),
#                        and once at start too when BACKUP_ON_START=true
#   schedule.sh health   healthcheck: exit 0 when the database answers and the last scheduled backup succeeded
set -eu

BACKUP_AT=${BACKUP_AT:-03:00}
BACKUP_ON_START=${BACKUP_ON_START:-false}
here=$(dirname "$0")
failed_marker=${BACKUP_STATE_DIR:-/tmp}/coinhub-backup-failed

if [ "${1:-}" = health ]; then
  if [ -n "${PGPASSWORD_FILE:-}" ]; then
    PGPASSWORD=$(cat "$PGPASSWORD_FILE")
    export PGPASSWORD
  fi
  if ! pg_isready -q -t 5; then
    echo "unhealthy: the database does not answer"
    exit 1
  fi
  if [ -e "$failed_marker" ]; then
    echo "unhealthy: the last backup failed at $(cat "$failed_marker"); see the service's logs"
    exit 1
  fi
  echo "healthy"
  exit 0
fi

case $BACKUP_AT in
  [01][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9]) ;;
  *)
    echo "backup: BACKUP_AT must be HH:MM, 00:00 to 23:59 (got '$BACKUP_AT')" >&2
    exit 2
    ;;
esac

sleeper=
trap 'echo "backup: scheduler stopping"; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 0' INT TERM

seconds_until_next_run() {
  now=$(date +%s)
  next=$(date -d "$(date +%Y-%m-%d) $BACKUP_AT" +%s)
  [ "$next" -gt "$now" ] || next=$((next + 86400))
  echo $((next - now))
}

run_backup() {
  if "$here/backup.sh"; then
    rm -f "$failed_marker"
  else
    date -u +%Y-%m-%dT%H:%M:%SZ >"$failed_marker"
    echo "backup: FAILED; the healthcheck reports unhealthy until the next successful run" >&2
  fi
}

echo "backup: scheduler started; dumps daily at $BACKUP_AT, keeping ${RETENTION_DAYS:-14} days in ${BACKUP_DIR:-/backups}"
case $BACKUP_ON_START in
  true | 1 | yes) run_backup ;;
  false | 0 | no | '') ;;
  *)
    echo "backup: BACKUP_ON_START must be true or false (got '$BACKUP_ON_START')" >&2
    exit 2
    ;;
esac
while :; do
  wait_s=$(seconds_until_next_run)
  echo "backup: next run in ${wait_s}s"
  # Sleep in the background so the INT/TERM trap runs at once instead of after the sleep.
  sleep "$wait_s" &
  sleeper=$!
  wait "$sleeper"
  sleeper=
  run_backup
done
