#!/usr/bin/env python3
"""Copy the file store's objects between an S3-compatible bucket and a local folder (like `aws s3 sync`):

    python scripts/s3_files.py download BUCKET FOLDER    # backup: every object missing or different locally
    python scripts/s3_files.py upload FOLDER BUCKET      # restore: every file missing or different in the bucket

Objects and files are compared by name and size; the store's names are generated and never reused, so a
same-named object of the same size is the same file. The endpoint and region come from S3_ENDPOINT_URL and
S3_REGION, credentials from the usual AWS_* variables (boto3, pinned in requirements.txt).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def client():
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
                        region_name=os.environ.get("S3_REGION") or "us-east-1",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}))


def objects(s3, bucket: str) -> dict:
    sizes = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            sizes[item["Key"]] = item["Size"]
    return sizes


def download(bucket: str, folder: str) -> int:
    s3, root = client(), Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    copied = 0
    for key, size in objects(s3, bucket).items():
        target = root / key
        if target.resolve().parent != root.resolve() and root.resolve() not in target.resolve().parents:
            raise SystemExit(f"refusing object name {key!r}")
        if target.exists() and target.stat().st_size == size:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        s3.download_file(bucket, key, str(partial))
        partial.replace(target)
        copied += 1
    return copied


def upload(folder: str, bucket: str) -> int:
    s3, root = client(), Path(folder)
    present = objects(s3, bucket)
    copied = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        if present.get(key) == path.stat().st_size:
            continue
        s3.upload_file(str(path), bucket, key)
        copied += 1
    return copied


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("download", "upload"):
        print(__doc__, file=sys.stderr)
        return 2
    copied = download(argv[1], argv[2]) if argv[0] == "download" else upload(argv[1], argv[2])
    print(f"{copied} file(s) copied")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
