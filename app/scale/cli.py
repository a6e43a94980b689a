"""Flask commands of the scale tooling: seed-scale and bench."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


def register(app) -> None:
    @app.cli.command("seed-scale")
    @click.option("--persons", type=int, default=10_000, show_default=True, help="Number of persons.")
    @click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same data).")
    @click.option("--units", type=int, default=2000, show_default=True,
                  help="Employer units and training bases.")
    @click.option("--replace", is_flag=True,
                  help="If the database holds a different scale load, drop everything and start over.")
    @click.option("--no-analyze", is_flag=True, help="Skip VACUUM ANALYZE after loading.")
    @with_appcontext
    def seed_scale_command(persons, seed, units, replace, no_analyze):
        """Generate a realistic province of PERSONS persons (run after `flask prepare --no-demo`)."""
        from app.scale.generate import BENCH_PASSWORD, count_rows, seed_scale

        try:
            info = seed_scale(persons, seed=seed, units=units, replace=replace, echo=click.echo,
                              analyze=not no_analyze)
        except (RuntimeError, ValueError) as exc:
            raise click.ClickException(str(exc))
        if not info.reused:
            click.echo(f"loaded in {info.seconds:.1f} s: " + ", ".join(
                f"{step} {seconds} s" for step, seconds in info.timings.items()))
        click.echo("rows: " + ", ".join(f"{k} {v:,}" for k, v in count_rows().items()))
        click.echo("benchmark accounts (user type 主管部门; benchmark data only):")
        click.echo(f"  province admin   {info.province_admin}  {BENCH_PASSWORD}")
        click.echo(f"  mid-level admin  {info.mid_admin}  {BENCH_PASSWORD}  (武汉市卫生健康委员会)")

    @app.cli.command("bench")
    @click.option("--runs", type=int, default=7, show_default=True, help="Measured runs per case.")
    @click.option("--warmup", type=int, default=2, show_default=True, help="Unmeasured runs per case first.")
    @click.option("--json", "json_path", default="bench-results/bench.json", show_default=True,
                  help="Where to write the results.")
    @click.option("--only", default=None, help="Run only the cases whose name contains this text.")
    @click.option("--wrk/--no-wrk", "with_wrk", default=True, show_default=True,
                  help="Throughput check with gunicorn (2 workers) and wrk.")
    @click.option("--wrk-duration", type=int, default=10, show_default=True, help="Seconds of each wrk run.")
    @click.option("--batch", type=int, default=1000, show_default=True, help="Registrations per batch approval.")
    @click.option("--explain/--no-explain", default=True, show_default=True,
                  help="EXPLAIN ANALYZE the slowest SELECT of every case over its target (PostgreSQL).")
    @with_appcontext
    def bench_command(runs, warmup, json_path, only, with_wrk, wrk_duration, batch, explain):
        """Measure list pages, lookups, forms, batch approval and the dashboard against plain FAB."""
        from flask import current_app

        from app.scale.bench import BenchOptions, print_table, run_bench, write_json

        options = BenchOptions(runs=runs, warmup=warmup, only=only, wrk=with_wrk, wrk_duration=wrk_duration,
                               batch=batch, explain=explain)
        try:
            report = run_bench(current_app.config["SQLALCHEMY_DATABASE_URI"], options, echo=click.echo)
        except RuntimeError as exc:
            raise click.ClickException(str(exc))
        print_table(report, click.echo)
        if json_path:
            write_json(report, json_path)
            click.echo(f"results written to {json_path}")
