"""flask seed | demo | users create | users set-password."""
from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import SLA_DEFAULTS, IssueCategory, IssueSubcategory

# (name, description, the name in Russian and Uzbek): the seeded names show in the
# reader's language (services/reference.local_name); the API keeps returning `name`.
SEED_CATEGORY = ("Cooling Equipment Problems", "Issues related to cooling equipment and refrigeration systems",
                 {"ru": "Неисправности холодильного оборудования", "uz": "Sovutish uskunalari nosozliklari"})
SEED_SUBCATEGORIES = [
    ("Cold Chambers", "Problems with cold storage chambers",
     {"ru": "Холодильные камеры", "uz": "Sovutish kameralari"}),
    ("Glass Repair", "Glass door or window damage/replacement",
     {"ru": "Ремонт стёкол", "uz": "Shisha taʼmiri"}),
    ("Temperature Control", "Temperature regulation and thermostat issues",
     {"ru": "Регулировка температуры", "uz": "Haroratni boshqarish"}),
    ("Leaking Water", "Water leaks from cooling equipment",
     {"ru": "Протечка воды", "uz": "Suv oqishi"}),
    ("Equipment Not Working", "Equipment failure or not powering on",
     {"ru": "Оборудование не работает", "uz": "Uskuna ishlamayapti"}),
    ("Noise/Vibration", "Abnormal noise or vibration from equipment",
     {"ru": "Шум/вибрация", "uz": "Shovqin/tebranish"}),
]


def _seed_category(category_row, subcategory_rows) -> IssueCategory:
    """One category and its subcategories (default SLA minutes, names in Russian and
    Uzbek); idempotent: a missing row is added, a seeded name without its translations
    gets them, one a dispatcher already translated keeps theirs."""
    name, description, translations = category_row
    category = db.session.execute(select(IssueCategory).where(IssueCategory.name == name)).scalar_one_or_none()
    if category is None:
        category = IssueCategory(name=name, description=description, name_translations=translations)
        db.session.add(category)
        db.session.flush()
    elif not category.name_translations:
        category.name_translations = translations
    existing = {s.name: s for s in db.session.execute(
        select(IssueSubcategory).where(IssueSubcategory.category_id == category.id)).scalars()}
    for sub_name, sub_description, sub_translations in subcategory_rows:
        if sub_name not in existing:
            db.session.add(IssueSubcategory(category_id=category.id, name=sub_name, description=sub_description,
                                            name_translations=sub_translations, **SLA_DEFAULTS))
        elif not existing[sub_name].name_translations:
            existing[sub_name].name_translations = sub_translations
    db.session.flush()
    return category


def seed_categories() -> IssueCategory:
    """The plan's category and six subcategories; idempotent."""
    return _seed_category(SEED_CATEGORY, SEED_SUBCATEGORIES)


# The refrigerant logbook's tickets (API.md, "Equipment"): its own category, so the plan's
# keeps exactly its six subcategories.
REFRIGERANT_CATEGORY = ("Refrigerant", "Refrigerant leaks and the F-gas logbook",
                        {"ru": "Хладагент", "uz": "Sovutgich agent"})
REFRIGERANT_SUBCATEGORIES = [("Refrigerant Leak", "A leak found or suspected; refrigerant added above the limit",
                              {"ru": "Утечка хладагента", "uz": "Sovutgich agent sizib chiqishi"})]


def seed_refrigerant_category() -> IssueCategory:
    """The category "Refrigerant" with "Refrigerant Leak" (the plan's default SLA
    minutes), for tickets the refrigerant logbook opens; idempotent."""
    return _seed_category(REFRIGERANT_CATEGORY, REFRIGERANT_SUBCATEGORIES)


def register_cli(app) -> None:
    @app.cli.command("seed")
    def seed_command():
        """Load the issue categories (safe to run again)."""
        seed_categories()
        seed_refrigerant_category()
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
