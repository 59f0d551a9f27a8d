#!/bin/sh
# Dumps one database with `pg_dump -Fc` into BACKUP_DIR as <database>-<UTC timestamp>.dump, checks the archive
# reads back, then deletes that database's dumps older than RETENTION_DAYS.
#
# Connection: the libpq variables PGHOST, PGPORT, PGUSER, PGDATABASE; the password from PGPASSWORD or from the
# file named by PGPASSWORD_FILE (a Docker secret). Options: BACKUP_DIR (default /backups), RETENTION_DAYS
# (default 14). Exit status is non-zero when the dump failed; a failed dump never replaces or prunes anything.
set -eu

BACKUP_DIR=${BACKUP_DIR:-/backups}
RETENTION_DAYS=${RETENTION_DAYS:-14}
database=${PGDATABASE:?PGDATABASE must name the database to back up}

case $RETENTION_DAYS in
  '' | *[!0-9]* | 0)
    echo "backup: RETENTION_DAYS must be a whole number of days, at least 1 (got '$RETENTION_DAYS')" >&2
    exit 2
    ;;
esac
if [ -n "${PGPASSWORD_FILE:-}" ]; then
  PGPASSWORD=$(cat "$PGPASSWORD_FILE")
  export PGPASSWORD
fi
mkdir -p "$BACKUP_DIR"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$BACKUP_DIR/$database-$stamp.dump"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --compress=6 --file="$partial" "$database"
# An archive that pg_restore cannot list is not a backup.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$final"
echo "backup: wrote $final ($(wc -c <"$final" | tr -d ' ') bytes)"

# A dump cut off by a hard stop leaves a .partial file; drop those once they are a day old.
find "$BACKUP_DIR" -maxdepth 1 -type f -name "$database-*.dump.partial" -mmin +1440 -exec rm -f {} +
find "$BACKUP_DIR" -maxdepth 1 -type f -name "$database-*.dump" -mmin +$((RETENTION_DAYS * 1440)) -print |
  while IFS= read -r old; do
    rm -f "$old"
    echo "backup: removed $old (older than $RETENTION_DAYS days)"
  done
