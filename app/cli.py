"""Flask commands: roles sync, demo world, start-up preparation."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _


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
            click.echo(_("%(role)s: %(count)d permissions", role=name, count=count))

    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Wipe product data and rebuild the demo world.")
    @with_appcontext
    def seed_demo_command(reset):
        """Build the fixed demo world (the README lists its accounts); rebuild it with --reset."""
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

    @app.cli.command("create-province")
    @click.option("--name", required=True, help="Name of the province organisation, e.g. 湖北省人力资源和社会保障厅.")
    @click.option("--id-number", required=True, help="Resident ID number of its first administrator (the login).")
    @click.option("--admin-name", required=True, help="Full name of that administrator.")
    @click.option("--uscc", default=None, help="Unified social credit code of the organisation (optional).")
    @click.option("--region", default=None, help="Region, e.g. 湖北省 (optional).")
    @click.option("--phone", default=None, help="Administrator's mobile phone (optional).")
    @with_appcontext
    def create_province_command(name, id_number, admin_name, uscc, region, phone):
        """First install: create the province organisation and its first administrator.

        The password is read from PROVINCE_ADMIN_PASSWORD, or asked for (twice, not shown).
        Refused, changing nothing, when a province exists already.
        """
        import os

        from app.errors import AppError
        from app.services.bootstrap import create_province

        password = os.environ.get("PROVINCE_ADMIN_PASSWORD") or click.prompt(
            _("Administrator password"), hide_input=True, confirmation_prompt=_("Repeat the password"))
        try:
            admin = create_province(name=name, id_number=id_number, admin_name=admin_name, password=password,
                                    uscc=uscc, region=region, phone=phone)
        except AppError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(_("Created %(org)s and its super admin %(id_number)s; sign in with the user type "
                     "\"Supervisory department\"", org=admin.organisation.name, id_number=admin.username))

    @app.cli.command("credit-check")
    @with_appcontext
    def credit_check_command():
        """Compare every credit summary with the raw records; exit 1 listing the differences."""
        from app.services.credit import summary

        found = summary.differences(limit=100)
        if found:
            for row in found:
                click.echo(f"person {row['person_id']} year {row['year']}: {row['problem']}")
            raise SystemExit(1)
        click.echo("credit summaries agree with the records")

    from app.scale.cli import register as register_scale_commands
    register_scale_commands(app)
