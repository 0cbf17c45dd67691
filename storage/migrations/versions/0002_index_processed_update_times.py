"""index processed update times (old update ids are pruned by time)"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index(
        op.f("ix_processed_updates_processed_at"), "processed_updates", ["processed_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_processed_updates_processed_at"), table_name="processed_updates")
