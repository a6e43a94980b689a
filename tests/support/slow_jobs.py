"""A job kind for testing the job machinery itself: slow, with progress, one side effect and one file.

Loaded by the suite and, through ``JOB_MODULES``, by the real Celery worker the job tests start.
"""
from __future__ import annotations

import os
import tempfile
import time

from app.jobs import JobContext, JobOutcome, task
from app.services import audit


@task("test_slow")
def slow(ctx: JobContext) -> JobOutcome:
    """`steps` steps of `delay` seconds; at the end one audit row (the side effect) and a result file."""
    steps, delay = int(ctx.params.get("steps", 10)), float(ctx.params.get("delay", 0.1))
    ctx.progress(0, steps)
    for step in range(1, steps + 1):
        time.sleep(delay)
        ctx.progress(step)
    if ctx.params.get("fail"):
        from app.errors import InvalidInput

        raise InvalidInput("测试任务按要求失败")
    audit.record("test_job_done", None, actor=ctx.actor, object_type="job", object_id=ctx.job_id,
                 comment=ctx.params.get("marker"))
    fd, path = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"job {ctx.job_id} done\n")
    return JobOutcome(message="完成", result={"steps": steps}, file_path=path, file_name="结果.txt")
