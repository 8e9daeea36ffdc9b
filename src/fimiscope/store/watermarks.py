"""Where each stage is: the ``seq`` of the last document it committed. A stage moves its
watermark in the transaction of the batch it describes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import utcnow
from fimiscope.store.tables import watermarks as watermark_table


def watermark(conn: Connection, stage: str) -> int:
    q = sa.select(watermark_table.c.position).where(watermark_table.c.stage == stage)
    return int(conn.execute(q).scalar() or 0)


def set_watermark(conn: Connection, stage: str, position: int) -> None:
    now = utcnow()
    res = conn.execute(
        watermark_table.update().where(watermark_table.c.stage == stage).values(position=position, updated_at=now)
    )
    if not res.rowcount:
        conn.execute(watermark_table.insert().values(stage=stage, position=position, updated_at=now))


def watermarks(conn: Connection) -> dict[str, int]:
    q = sa.select(watermark_table.c.stage, watermark_table.c.position)
    return {r[0]: int(r[1]) for r in conn.execute(q)}
