"""inbox of updates taken from the platforms and not yet handled

An update is written here before the platform is told it arrived (Telegram's next
getUpdates offset, a webhook's 200), and deleted once handled: a process stopped in between
(kill -9, power cut) leaves it here, and the next start handles it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("update_id", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "update_id", name=op.f("pk_inbox")),
    )


def downgrade() -> None:
    op.drop_table("inbox")
