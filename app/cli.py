"""Flask commands: roles sync, demo world, start-up preparation."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


def prepare_database(seed_demo_data: bool) -> bool:
    """Migrate to head, seed reference data, sync roles and (optionally) the demo world."""
    from flask_migrate import upgrade

    from app.demo import seed_demo
    from app.reference import seed_reference_data
    from app.roles import sync_roles
    from app.services.transaction import transaction

    upgrade()
    with transaction():
        seed_reference_data()
    sync_roles(current_app.appbuilder)
    return seed_demo() if seed_demo_data else False


def register(app) -> None:
    @app.cli.command("sync-roles")
    @with_appcontext
    def sync_roles_command():
        """Create permissions and make the role templates match app/roles.py."""
        from app.roles import sync_roles

        for name, count in sync_roles(current_app.appbuilder).items():
            click.echo(f"{name}: {count} permissions")

    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Wipe product data and rebuild the demo world.")
    @with_appcontext
    def seed_demo_command(reset):
        """Build the demo world of DESIGN.md §6 (rebuild it with --reset)."""
        from app.demo import print_demo_accounts, seed_demo
        from app.roles import sync_roles

        sync_roles(current_app.appbuilder)
        if seed_demo(reset=reset):
            click.echo("demo world created")
            print_demo_accounts(click.echo)
        else:
            click.echo("database already has data; use --reset to rebuild the demo world")

    @app.cli.command("prepare")
    @click.option("--demo/--no-demo", default=True)
    @with_appcontext
    def prepare_command(demo):
        """Migrate, seed reference data, sync roles and seed the demo world if empty."""
        prepare_database(demo)
        click.echo("database ready")

    from app.scale.cli import register as register_scale_commands
    register_scale_commands(app)
