"""Generator step of the statistics aggregates (issue 13): one set-based rebuild after everything is loaded.

Persons loaded by COPY already passed the ``person`` triggers; credit summaries loaded in bulk do not call the
``AFTER_REFRESH`` hook — so the step recomputes both aggregates from ``person`` and ``credit_summary`` at the
end (it registers last: any step registered later must keep it last).
"""
from __future__ import annotations

from app.scale.generate import GenerationContext, Step, register_step


def step_statistics(ctx: GenerationContext) -> None:
    from app.services.statistics import aggregates

    counts = aggregates.rebuild()
    ctx.echo("  statistics aggregates: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


def register() -> None:
    register_step(Step("statistics", step_statistics))
