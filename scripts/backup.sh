#!/usr/bin/env bash
# Back up the platform: the PostgreSQL database (pg_dump -Fc) and the file store (uploads, job results).
#
#   DATABASE_URL=postgresql://... [STORAGE_BACKEND=local STORAGE_ROOT=...] bash scripts/backup.sh [FOLDER]
#   DATABASE_URL=postgresql://... STORAGE_BACKEND=s3 S3_BUCKET=... [S3_ENDPOINT_URL=...] bash scripts/backup.sh [FOLDER]
#
# Writes FOLDER (default backups/jijiao-<UTC time>): database.dump, files.tar.gz (the local store, or the
# bucket's objects copied through scripts/s3_files.py), manifest.txt and SHA256SUMS. The database is dumped
# first: a file is written before the transaction that refers to it commits, so every file the dump refers to
# is in the copy. Restore with scripts/restore.sh FOLDER.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL names the database to back up}"
url="${DATABASE_URL/postgresql+psycopg2:/postgresql:}"
case "$url" in postgres://*|postgresql://*) ;; *) echo "backup.sh backs up PostgreSQL only" >&2; exit 2 ;; esac
backend="${STORAGE_BACKEND:-local}"
folder="${1:-backups/jijiao-$(date -u +%Y%m%dT%H%M%SZ)}"
python="${PYTHON:-.venv/bin/python}"
mkdir -p "$folder"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "database -> $folder/database.dump"
pg_dump --format=custom --no-owner --no-privileges --file "$folder/database.dump" "$url"

case "$backend" in
  local)
    root="${STORAGE_ROOT:-${JIJIAO_INSTANCE:-instance}/files}"
    mkdir -p "$root"
    echo "file store $root -> $folder/files.tar.gz"
    tar -C "$root" --exclude='.part-*' -czf "$folder/files.tar.gz" .
    ;;
  s3)
    : "${S3_BUCKET:?S3_BUCKET names the bucket of the file store}"
    echo "bucket $S3_BUCKET -> $folder/files.tar.gz"
    "$python" scripts/s3_files.py download "$S3_BUCKET" "$tmp/files" >/dev/null
    tar -C "$tmp/files" -czf "$folder/files.tar.gz" .
    ;;
  *) echo "STORAGE_BACKEND must be local or s3, not $backend" >&2; exit 2 ;;
esac

files=$(tar -tzf "$folder/files.tar.gz" | grep -vc '/$' || true)
{
  echo "created_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "database=${url##*/}"
  echo "storage_backend=$backend"
  echo "files=$files"
  echo "alembic_revision=$(psql -X -q -tAc 'SELECT version_num FROM alembic_version' "$url" 2>/dev/null || true)"
} > "$folder/manifest.txt"
(cd "$folder" && sha256sum database.dump files.tar.gz manifest.txt > SHA256SUMS)
echo "backup written to $folder ($files files)"
