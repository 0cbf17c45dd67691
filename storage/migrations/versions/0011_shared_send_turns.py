"""send turns shared by the bot processes

Several `dvk run` processes on one PostgreSQL database keep each platform's sending rate,
and each chat's spacing, together: the next free turn of each limit is a row here
(scheduler/turns.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "send_turns",
        sa.Column("key", sa.String(length=150), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_turns")),
    )
    with op.batch_alter_table("send_turns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_send_turns_next_at"), ["next_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("send_turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_send_turns_next_at"))
    op.drop_table("send_turns")
