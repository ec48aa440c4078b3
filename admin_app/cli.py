"""Command-line tasks: `flask --app wsgi seed [--demo]`, `create-user`."""
import os

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from models import Role, User, db


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_logins_command)


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
