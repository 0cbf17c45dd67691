"""recognition decisions, council scores, who signs a unit's sheets

A recognised model's year keeps the decision that recognised it (number, date, level); the
council's assessment of a proposed model is kept per criterion beside the officer's
self-score; a unit may name the title its sheets are signed under.
"""

import sqlalchemy as sa
from alembic import op

from storage.migrations.helpers import criterion_points

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("signer_title", sa.String(length=200), nullable=True))
    with op.batch_alter_table("model_years") as batch:
        batch.add_column(sa.Column("decision_number", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("decision_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("decision_level", sa.String(length=20), nullable=True))
    op.create_table("council_scores", *criterion_points("council_scores"))
    op.create_index(
        op.f("ix_council_scores_model_year_id"), "council_scores", ["model_year_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_council_scores_model_year_id"), table_name="council_scores")
    op.drop_table("council_scores")
    with op.batch_alter_table("model_years") as batch:
        batch.drop_column("decision_level")
        batch.drop_column("decision_date")
        batch.drop_column("decision_number")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("signer_title")
