"""What the migrations write alike, in one place. A migration's schema must never change
once released: a function here keeps what it builds as it is."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem


def foreign_key(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    """``table.column`` referring to ``target.id``, named as the models' naming convention
    names it (fk_<table>_<column>_<target>)."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def criterion_points(table: str) -> list[SchemaItem]:
    """The columns and constraints of a table of points given per criterion of the rubric
    to a model's year, by whom and when (model_scores, council_scores)."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_year_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.Integer(), nullable=False),
        sa.Column("points", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("scored_by", sa.Integer(), nullable=True),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        foreign_key(table, "model_year_id", "model_years", "CASCADE"),
        foreign_key(table, "scored_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("model_year_id", "criterion", name=f"uq_{table}_criterion"),
    ]
