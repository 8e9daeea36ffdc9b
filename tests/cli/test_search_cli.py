"""`fimiscope search` in a subprocess over the demo: the Czech word ``obilí`` finds every
document that uses any of its forms; in quotes, only the form typed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

FORMS = re.compile(r"\bobil(í|ím|ích|ími)\b", re.IGNORECASE)


def _fimiscope(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIMISCOPE_DATA_DIR": str(data)}
    env.pop("FIMISCOPE_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "fimiscope", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_obili_finds_its_inflected_forms_in_the_demo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fimiscope(data, "demo", "--scale", "0.05", "--format", "json")
    from fimiscope.store import Store
    from fimiscope.store import documents as document_store

    store = Store.open(None, data)
    with store.connect() as conn:
        every = document_store.documents_after(conn, 0, 100_000)
    store.close()
    with_forms = {d.id for d in every if FORMS.search(f"{d.title or ''} {d.text}")}
    with_obili = {d.id for d in every if re.search(r"\bobilí\b", f"{d.title or ''} {d.text}", re.IGNORECASE)}
    assert len(with_forms) > len(with_obili)  # the demo's grain-market news uses other cases

    found = json.loads(_fimiscope(data, "search", "obilí", "--limit", "1000", "--format", "json").stdout)
    assert {h["id"] for h in found} == with_forms
    assert "Obchodníci s obilím čekají slabší sklizeň" in {h["title"] for h in found}
    exact = json.loads(_fimiscope(data, "search", '"obilí"', "--limit", "1000", "--format", "json").stdout)
    assert {h["id"] for h in exact} == with_obili
