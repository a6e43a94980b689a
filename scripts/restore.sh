#!/usr/bin/env bash
# Restore a backup of scripts/backup.sh into an EMPTY database and file store.
#
#   DATABASE_URL=postgresql://.../new_db [STORAGE_BACKEND=local STORAGE_ROOT=...] bash scripts/restore.sh FOLDER
#   DATABASE_URL=postgresql://.../new_db STORAGE_BACKEND=s3 S3_BUCKET=... bash scripts/restore.sh FOLDER
#
# Checks SHA256SUMS first. The database must exist and hold no tables (create it with createdb); the local
# folder must be empty or missing (an S3 bucket must exist; objects already there are kept). Then run
# `flask prepare --no-demo` (migrates a dump of an older release) and start the app hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:?backup folder}"
: "${DATABASE_URL:?DATABASE_URL names the (empty) database to restore into}"
url="${DATABASE_URL/postgresql+psycopg2:/postgresql:}"
backend="${STORAGE_BACKEND:-local}"
python="${PYTHON:-.venv/bin/python}"
(cd "$folder" && sha256sum --quiet -c SHA256SUMS)

tables=$(psql -X -q -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" "$url")
if [ "$tables" != "0" ]; then
  echo "the database already holds $tables tables: restore into a new, empty database" >&2
  exit 1
fi
echo "database <- $folder/database.dump"
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$url" "$folder/database.dump"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
case "$backend" in
  local)
    root="${STORAGE_ROOT:-${JIJIAO_INSTANCE:-instance}/files}"
    if [ -d "$root" ] && [ -n "$(ls -A "$root")" ]; then
      echo "$root is not empty: restore into a new folder" >&2
      exit 1
    fi
    mkdir -p "$root"
    echo "file store $root <- $folder/files.tar.gz"
    tar -C "$root" -xzf "$folder/files.tar.gz"
    ;;
  s3)
    : "${S3_BUCKET:?S3_BUCKET names the bucket of the file store}"
    echo "bucket $S3_BUCKET <- $folder/files.tar.gz"
    mkdir -p "$tmp/files"
    tar -C "$tmp/files" -xzf "$folder/files.tar.gz"
    "$python" scripts/s3_files.py upload "$tmp/files" "$S3_BUCKET" >/dev/null
    ;;
  *) echo "STORAGE_BACKEND must be local or s3, not $backend" >&2; exit 2 ;;
esac
echo "restored $folder"
