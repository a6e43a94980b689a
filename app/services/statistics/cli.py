"""flask stats-check / stats-rebuild: the statistics aggregates against a recomputation from scratch."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext


def register(app) -> None:
    if "stats-check" in app.cli.commands:
        return

    @app.cli.command("stats-check")
    @click.option("--limit", type=int, default=20, show_default=True, help="Most differences listed.")
    @with_appcontext
    def stats_check_command(limit):
        """Recompute the statistics aggregates from person and credit_summary; exit 1 on any difference."""
        from app.extensions import db
        from app.services.statistics import aggregates

        found = aggregates.differences(limit=limit)
        db.session.rollback()
        if not found:
            click.echo("statistics aggregates agree with a recomputation")
            return
        for row in found:
            click.echo(json.dumps(row, ensure_ascii=False))
        click.echo(f"{len(found)} difference(s) found (at most {limit} listed); run `flask stats-rebuild`",
                   err=True)
        sys.exit(1)

    @app.cli.command("stats-rebuild")
    @with_appcontext
    def stats_rebuild_command():
        """Replace the statistics aggregates by a recomputation (set-based, one transaction)."""
        from app.services.statistics import aggregates
        from app.services.transaction import transaction

        with transaction():
            counts = aggregates.rebuild()
        click.echo("rebuilt: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
