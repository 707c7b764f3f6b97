"""flask seed | demo | users create | users set-password."""
from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import SLA_DEFAULTS, IssueCategory, IssueSubcategory

SEED_CATEGORY = ("Cooling Equipment Problems", "Issues related to cooling equipment and refrigeration systems")
SEED_SUBCATEGORIES = [
    ("Cold Chambers", "Problems with cold storage chambers"),
    ("Glass Repair", "Glass door or window damage/replacement"),
    ("Temperature Control", "Temperature regulation and thermostat issues"),
    ("Leaking Water", "Water leaks from cooling equipment"),
    ("Equipment Not Working", "Equipment failure or not powering on"),
    ("Noise/Vibration", "Abnormal noise or vibration from equipment"),
]


def seed_categories() -> IssueCategory:
    """The plan's category and six subcategories with default SLA minutes; idempotent."""
    name, description = SEED_CATEGORY
    category = db.session.execute(select(IssueCategory).where(IssueCategory.name == name)).scalar_one_or_none()
    if category is None:
        category = IssueCategory(name=name, description=description)
        db.session.add(category)
        db.session.flush()
    existing = {s.name for s in db.session.execute(
        select(IssueSubcategory).where(IssueSubcategory.category_id == category.id)).scalars()}
    for sub_name, sub_description in SEED_SUBCATEGORIES:
        if sub_name not in existing:
            db.session.add(IssueSubcategory(category_id=category.id, name=sub_name, description=sub_description,
                                            **SLA_DEFAULTS))
    db.session.flush()
    return category


def register_cli(app) -> None:
    @app.cli.command("seed")
    def seed_command():
        """Load the issue categories (safe to run again)."""
        seed_categories()
        db.session.commit()
        click.echo("Issue categories seeded.")

    @app.cli.command("demo")
    @click.option("--force", is_flag=True, help="Add demo data even if tickets exist.")
    def demo_command(force):
        """Demo customers, branches, technicians, users and ~200 tickets (empty database only)."""
        from app.demo import load_demo

        logins = load_demo(force=force)
        db.session.commit()
        if logins is None:
            click.echo("Database already has data; demo data not loaded.")
            from app.demo import DEMO_LOGINS

            logins = DEMO_LOGINS
        from app.demo import demo_language
        from app.i18n import LANGUAGE_NAMES

        click.echo("Demo logins (password for all: %s), each with the language its pages and messages use:"
                   % current_app.config.get("DEMO_PASSWORD", "evercold"))
        for role, email in logins:
            lang = demo_language(email)
            click.echo(f"  {role:<14} {email:<36} {lang} ({LANGUAGE_NAMES[lang]})")

    users_group = click.Group("users", help="Manage users.")

    @users_group.command("create")
    @click.option("--email", required=True)
    @click.option("--password", required=True)
    @click.option("--role", required=True, type=click.Choice(["admin", "dispatcher", "technician", "store_manager"]))
    @click.option("--name", default=None)
    @click.option("--technician-id", default=None)
    @click.option("--branch-id", "branch_ids", multiple=True)
    def create_user_command(email, password, role, name, technician_id, branch_ids):
        """Create a user (bootstrap the first admin with this)."""
        from app.services import users
        from app.services.errors import DomainError

        try:
            user = users.create_user({"email": email, "password": password, "role": role, "name": name,
                                      "technicianId": technician_id, "branchIds": list(branch_ids)})
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise click.ClickException(f"{exc.message}{' (' + detail + ')' if detail else ''}")
        click.echo(f"Created {user.role.value} {user.email} (id {user.id})")

    @users_group.command("set-password")
    @click.option("--email", required=True)
    @click.option("--password", required=True)
    def set_password_command(email, password):
        """Give a user a new password; their sessions and login tokens end (service tokens stay)."""
        from app.services import users
        from app.services.errors import DomainError

        try:
            user = users.user_by_email(email)
            users.set_password(user, {"newPassword": password})
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise click.ClickException(f"{exc.message}{' (' + detail + ')' if detail else ''}")
        click.echo(f"Password changed for {user.email}; their sessions and sign-in tokens have ended.")

    app.cli.add_command(users_group)

    from app.cli_sla import register_sla_cli

    register_sla_cli(app)

    from app.cli_ops import register_ops_cli

    register_ops_cli(app)
