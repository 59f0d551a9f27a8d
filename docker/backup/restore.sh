#!/bin/sh
# Restores a dump made by backup.sh into the database named by PGDATABASE.
#
#   restore.sh FILE             the database must be missing or empty; it is created when missing
#   restore.sh --replace FILE   drops the database first (stop api and worker before you do this)
#
# Connection as for backup.sh (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD or PGPASSWORD_FILE). The restore
# runs in one transaction: it applies completely or not at all.
set -eu

replace=false
if [ "${1:-}" = --replace ]; then
  replace=true
  shift
fi
if [ $# -ne 1 ]; then
  echo "usage: restore.sh [--replace] FILE" >&2
  exit 2
fi
file=$1
database=${PGDATABASE:?PGDATABASE must name the database to restore into}

if [ -n "${PGPASSWORD_FILE:-}" ]; then
  PGPASSWORD=$(cat "$PGPASSWORD_FILE")
  export PGPASSWORD
fi
if ! pg_restore --list "$file" >/dev/null 2>&1; then
  echo "restore: $file is not a pg_dump custom-format archive" >&2
  exit 1
fi

exists=$(psql -d postgres -At -v db="$database" <<'SQL'
select count(*) from pg_database where datname = :'db'
SQL
)
if [ "$exists" = 1 ] && [ "$replace" = true ]; then
  dropdb --force "$database"
  echo "restore: dropped database $database"
  exists=0
fi
if [ "$exists" = 1 ]; then
  tables=$(psql -d "$database" -At <<'SQL'
select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
SQL
)
  if [ "$tables" != 0 ]; then
    echo "restore: database $database already has $tables tables; rerun with --replace to drop it first" >&2
    exit 1
  fi
else
  createdb "$database"
  echo "restore: created database $database"
fi

pg_restore --dbname="$database" --no-owner --exit-on-error --single-transaction "$file"
echo "restore: restored $file into $database"
