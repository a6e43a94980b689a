"""Background jobs of the credit-hour review: decisions over a whole filter, with progress."""
from __future__ import annotations

from app.jobs import JobContext, JobOutcome, task


@task("credit_decide")
def credit_decide_task(ctx: JobContext) -> JobOutcome:
    """批量通过 / 批量驳回 of every pending record a filter matched (ids fixed when it was confirmed)."""
    from app.services.credit.review import decide_in_chunks

    ids = [int(i) for i in ctx.params.get("ids") or []]
    outcome = decide_in_chunks(ctx.params.get("kind", "credit_record"), ids, ctx.actor, ctx.params["decision"],
                               ctx.params.get("reason"), progress=ctx.progress)
    return JobOutcome(message=outcome.message(), result={"done": outcome.done, "skipped": outcome.skipped})


@task("credit_verify")
def credit_verify_task(ctx: JobContext) -> JobOutcome:
    """审验通过 / 审验不通过 of every person a filter matched, re-scoped to the job's owner."""
    from app.models import Person
    from app.services.credit.verification import Query, _confirm, _validate, persons_select

    p = ctx.params
    decision, reason, rule = _validate(ctx.actor, p.get("year"), p.get("decision"), p.get("reason"))
    query = Query(year=rule.year, employer_id=p.get("employer"), name=p.get("name") or "", state=p.get("state") or "")
    chosen = persons_select(ctx.actor.scope, query)
    if not ctx.actor.scope.is_all:
        chosen = chosen.where(Person.org_path != ctx.actor.scope.prefix)
    outcome = _confirm(ctx.actor, rule, chosen, decision, reason, progress=ctx.progress)
    return JobOutcome(message=outcome.message(), result={"done": outcome.done, "skipped": outcome.skipped})
