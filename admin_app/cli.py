"""Command-line tasks: `flask --app wsgi seed [--demo]`, `create-user`."""
import os

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from admin_app.backup import restore_backup, write_backup
from models import Role, User, db


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_logins_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("seed")
@with_appcontext
@click.option("--demo", is_flag=True, help="Also load demo users, counterparties and cases.")
@click.option("--if-empty", is_flag=True, help="Load only into a database without cases or users.")
def seed_command(demo: bool, if_empty: bool) -> None:
    """Load reference data (the city's OPDs, settings); idempotent."""
    from seed import load_demo, load_reference

    if if_empty and db.session.execute(select(func.count()).select_from(User)).scalar_one():
        click.echo("Database already has data; seeding skipped.")
        return
    load_reference(db.session)
    if demo:
        password = os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
        counts = load_demo(db.session, password)
        click.echo("Demo data: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    db.session.commit()
    click.echo("Seed complete.")


DEFAULT_DEMO_PASSWORD = "kerjasama-demo"


@click.command("demo-logins")
@with_appcontext
def demo_logins_command() -> None:
    """Print the demo accounts and their password."""
    from seed import DEMO_USERS

    password = os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
    click.echo("Demo logins (password: %s):" % password)
    for username, full_name, role in DEMO_USERS:
        click.echo(f"  {username:<10} {role:<9} {full_name}")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--email", default=None)
@click.password_option(help="Prompted (hidden, twice) when not given.")
def create_user_command(username: str, full_name: str, role: str, email: str | None, password: str) -> None:
    """Create a real account from the command line."""
    username = username.strip().lower()
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    if db.session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise click.ClickException(f"user {username!r} already exists")
    user = User(username=username, full_name=full_name, role=role, email=email, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} account {username!r}.")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path: str) -> None:
    """Write one archive (zip) with every table's rows and the uploaded files they reference."""
    manifest = write_backup(path)
    rows = sum(table["rows"] for table in manifest["tables"])
    click.echo(f"Backup written to {path}: {rows} rows in {len(manifest['tables'])} tables, "
               f"{len(manifest['files'])} files, {manifest['bytes']} bytes, "
               f"revision {manifest['alembic_revision']}, {manifest['seconds']:.2f} s.")
    for missing in manifest["missing_files"]:
        click.echo(f"Warning: file {missing['sha256']} not backed up: {missing['reason']}.", err=True)


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def restore_command(path: str) -> None:
    """Load a backup archive into an empty, migrated database of the same revision."""
    result = restore_backup(path)
    manifest = result["manifest"]
    rows = sum(table["rows"] for table in manifest["tables"])
    click.echo(f"Restored {path} (made {manifest['created_at']}): {rows} rows in {len(manifest['tables'])} "
               f"tables, {len(manifest['files'])} files ({result['files']} copied), {result['seconds']:.2f} s.")
    for warning in result["warnings"]:
        click.echo(f"Warning: {warning}.", err=True)
