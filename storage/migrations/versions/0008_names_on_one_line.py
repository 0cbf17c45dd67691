"""names and other one-line texts on one line

Names typed into a spreadsheet cell with Alt+Enter, or pasted with double spaces, were
stored as typed: buttons showed two-line names and two spellings of one name. The columns a
person reads as one line (unit and model names, the subject's name, place, lead body, the
other field, people's and accounts' names, document numbers) get their line breaks and runs
of spaces collapsed and are put in NFC, as everything read from now on is
(``domain.text.one_line``). Paragraphs (scale, results, contents) keep their lines.

A unit whose collapsed name would equal a sibling's keeps its name (two units cannot share a
name under one parent); it is logged to be renamed by hand.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.text import one_line

revision = "0008"
down_revision = "0007"

log = logging.getLogger("alembic.runtime.migration")

ONE_LINE = {
    "model_years": ("name", "subject_name", "place", "lead_body", "field_other"),
    "people": ("full_name",),
    "accounts": ("display_name",),
    "lead_documents": ("number",),
}


def _collapse(table: str, columns: Sequence[str]) -> None:
    bind = op.get_bind()
    t = sa.table(table, sa.column("id"), *(sa.column(c) for c in columns))
    for row in bind.execute(sa.select(t)).mappings().all():
        changed = {c: one_line(row[c]) for c in columns if row[c] is not None}
        changed = {c: value for c, value in changed.items() if value != row[c]}
        if changed:
            bind.execute(sa.update(t).where(t.c.id == row["id"]).values(**changed))


def _unit_names() -> None:
    bind = op.get_bind()
    units = sa.table("units", sa.column("id"), sa.column("parent_id"), sa.column("name"))
    rows = bind.execute(sa.select(units)).mappings().all()
    taken = {(r["parent_id"], r["name"]) for r in rows}
    for row in rows:
        name = one_line(row["name"])
        if name == row["name"]:
            continue
        if (row["parent_id"], name) in taken:
            log.warning(
                "unit %s keeps its name %r: a unit under the same parent is already named %r",
                row["id"],
                row["name"],
                name,
            )
            continue
        taken.discard((row["parent_id"], row["name"]))
        taken.add((row["parent_id"], name))
        bind.execute(sa.update(units).where(units.c.id == row["id"]).values(name=name))


def upgrade() -> None:
    _unit_names()
    for table, columns in ONE_LINE.items():
        _collapse(table, columns)


def downgrade() -> None:
    """Nothing to undo: the line breaks were never meant to be there."""
