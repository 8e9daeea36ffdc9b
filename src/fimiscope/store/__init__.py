"""Persistence: one ``Store`` over SQLite (default) or PostgreSQL, same code, same migrations.

The ``Store`` owns the connections and nothing else (after datasette's ``Database``). What is
stored lives in modules of functions over a ``Connection``, one per kind of thing:
``sources``, ``documents``, ``search``, ``signals``, ``watermarks``, ``stats``, and one per
room (``laundering``, ``claims``, ``collect``, ...). A caller opens the connection::

    with store.connect() as conn:              # reads
        sig = signals.get_signal(conn, sig_id)
    with store.transaction() as conn:          # writes, atomic
        documents.upsert_documents(conn, docs)
    sig = store.read(signals.get_signal, sig_id)    # the same, for one call
    store.write(documents.upsert_documents, docs)

A pipeline stage is handed the connection of its batch and writes through it, so its results
and its watermark commit together.
"""

from fimiscope.store.db import Store
from fimiscope.store.documents import UpsertResult
from fimiscope.store.sources import source_name_for

__all__ = ["Store", "UpsertResult", "source_name_for"]
