"""deadlines belong to the level that set them; deadlines reopened for one unit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 04:30:00

A deadline row now names the unit whose plan set it, for itself and the units below it. The
dates of a database from before (one set for everybody) become the top level's: each unit
without a parent gets them.
"""

import sqlalchemy as sa
from alembic import op

from storage.migrations.helpers import foreign_key

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_deadlines_campaign_kind", type_="unique")

    conn = op.get_bind()
    roots = [r[0] for r in conn.execute(sa.text("SELECT id FROM units WHERE parent_id IS NULL"))]
    rows = conn.execute(sa.text("SELECT id, campaign_id, kind, title, due_on FROM deadlines")).all()
    for row in rows:
        for n, root in enumerate(roots):
            if n == 0:
                conn.execute(
                    sa.text("UPDATE deadlines SET unit_id = :u WHERE id = :id"),
                    {"u": root, "id": row.id},
                )
            else:
                conn.execute(
                    sa.text(
                        "INSERT INTO deadlines (campaign_id, unit_id, kind, title, due_on) "
                        "VALUES (:c, :u, :k, :t, :d)"
                    ),
                    {
                        "c": row.campaign_id,
                        "u": root,
                        "k": row.kind,
                        "t": row.title,
                        "d": row.due_on,
                    },
                )
    # Without any unit the dates were the defaults: nothing to keep.
    conn.execute(sa.text("DELETE FROM deadlines WHERE unit_id IS NULL"))

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            "uq_deadlines_campaign_unit_kind", ["campaign_id", "unit_id", "kind"]
        )
        batch_op.create_index(batch_op.f("ix_deadlines_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deadlines_unit_id_units"),
            "units",
            ["unit_id"],
            ["id"],
            ondelete="CASCADE",
        )

    op.create_table(
        "deadline_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        foreign_key("deadline_extensions", "granted_by", "people", "SET NULL"),
        foreign_key("deadline_extensions", "unit_id", "units", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_extensions")),
        sa.UniqueConstraint(
            "unit_id", "year", "kind", name="uq_deadline_extensions_unit_year_kind"
        ),
    )


def downgrade() -> None:
    op.drop_table("deadline_extensions")
    conn = op.get_bind()
    # Back to one date per year: the top level's (the lowest unit id among those that set one).
    conn.execute(
        sa.text(
            "DELETE FROM deadlines WHERE id NOT IN (SELECT MIN(id) FROM deadlines "
            "GROUP BY campaign_id, kind)"
        )
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deadlines_unit_id_units"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deadlines_unit_id"))
        batch_op.drop_constraint("uq_deadlines_campaign_unit_kind", type_="unique")
        batch_op.create_unique_constraint("uq_deadlines_campaign_kind", ["campaign_id", "kind"])
        batch_op.drop_column("unit_id")
