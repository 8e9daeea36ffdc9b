"""stage names follow room.name: the laundering stage is now detect.laundering

A stage's name is its watermark key and the ``detector`` of the signals it writes, so the
rename moves both; without it the renamed stage would start again from document 0.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RENAMED = {"laundering": "detect.laundering"}  # old name -> new name


def _rename(pairs: dict[str, str]) -> None:
    watermarks = sa.table("watermarks", sa.column("stage", sa.String))
    signals = sa.table("signals", sa.column("detector", sa.String))
    for old, new in pairs.items():
        op.execute(watermarks.update().where(watermarks.c.stage == old).values(stage=new))
        op.execute(signals.update().where(signals.c.detector == old).values(detector=new))


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})
