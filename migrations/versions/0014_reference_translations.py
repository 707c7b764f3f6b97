"""names of categories and subcategories in other languages

`issue_categories.name_translations` and `issue_subcategories.name_translations`:
JSON {"ru": ..., "uz": ...} (NULL: none), what a reader of that language sees instead
of `name` (services/reference.local_name); the API keeps returning `name`.

Data step: the seeded names (app/cli.py SEED_CATEGORY, SEED_SUBCATEGORIES, frozen here
as they were when this revision was written) get their translations where a row of that
exact name has none yet.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CATEGORIES = {
    "Cooling Equipment Problems": {"ru": "Неисправности холодильного оборудования",
                                   "uz": "Sovutish uskunalari nosozliklari"},
}
SUBCATEGORIES = {
    "Cold Chambers": {"ru": "Холодильные камеры", "uz": "Sovutish kameralari"},
    "Glass Repair": {"ru": "Ремонт стёкол", "uz": "Shisha taʼmiri"},
    "Temperature Control": {"ru": "Регулировка температуры", "uz": "Haroratni boshqarish"},
    "Leaking Water": {"ru": "Протечка воды", "uz": "Suv oqishi"},
    "Equipment Not Working": {"ru": "Оборудование не работает", "uz": "Uskuna ishlamayapti"},
    "Noise/Vibration": {"ru": "Шум/вибрация", "uz": "Shovqin/tebranish"},
}


def upgrade():
    for table in ("issue_categories", "issue_subcategories"):
        op.add_column(table, sa.Column("name_translations", sa.JSON(), nullable=True))
    conn = op.get_bind()
    for table, names in (("issue_categories", CATEGORIES), ("issue_subcategories", SUBCATEGORIES)):
        t = sa.table(table, sa.column("name", sa.String), sa.column("name_translations", sa.JSON))
        for name, translations in names.items():
            conn.execute(t.update().where(t.c.name == name, t.c.name_translations.is_(None))
                         .values(name_translations=translations))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+ too): a batch copy of these tables would drop
    # and recreate them under the tickets' foreign keys.
    for table in ("issue_subcategories", "issue_categories"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN name_translations")
