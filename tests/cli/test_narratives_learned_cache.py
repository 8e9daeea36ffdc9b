"""The learned part of known-narrative assignment is fit once per known set and kept in the store:
`fimiscope detect narratives` run again with the same known narratives loads it instead of
refitting; adding an example to a narrative (or a new narrative) refits it. Driven through the
CLI in a subprocess, on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fimiscope.demo.scenario import build_scenario
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store

_SANCTIONS = [
    "Sanctions are ruining ordinary European families while Russia's economy keeps growing",
    "European factories close because sanctions made gas unaffordable, Russia is unharmed",
    "Households in Germany pay double for heating since the sanctions, Moscow sells its oil elsewhere",
    "The sanctions backfired: European inflation soars while the Russian rouble is stable",
    "Brussels' sanctions hurt European farmers more than the Kremlin",
    "Italian workers lose jobs to sanctions that Russia shrugs off",
    "Sanctions pushed Europe into recession; Russian growth beat forecasts",
    "French bakers cannot pay energy bills because of the sanctions against Russia",
    "Sanctions against Russia are an own goal for the European economy",
    "Europe freezes in winter while Russia profits from selling gas to Asia despite sanctions",
]
_CLIMATE = [
    "Climate activists fly to summits in private jets while lecturing workers",
    "The climate movement is run by hypocrites who never give up their own comforts",
    "Greta's followers glue themselves to roads but take holidays in the Maldives",
    "Climate protesters are spoiled teenagers funded by foreign billionaires",
    "Activists demand sacrifices from farmers while flying business class to conferences",
    "The green lobby's leaders own mansions and three cars each",
    "Climate alarmists block ambulances on motorways to get attention",
    "Extinction Rebellion activists vandalise paintings and call it climate action",
    "Climate campaigners are a cult that hates ordinary people's cars and holidays",
    "Celebrities preach about carbon footprints from their yachts",
]


def _run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIMISCOPE_DATABASE_URL": database_url}
    env.pop("FIMISCOPE_DATA_DIR", None)
    env.pop("FIMISCOPE_ENCODER_PATH", None)
    done = subprocess.run([sys.executable, "-m", "fimiscope", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _semeval_folder(tmp: Path) -> Path:
    """Two narratives (and a sub-narrative each) with ten labelled articles: enough (8+) for
    the learned part."""
    en = tmp / "semeval" / "EN"
    (en / "raw-documents").mkdir(parents=True)
    lines = []
    for i, text in enumerate(_SANCTIONS):
        (en / "raw-documents" / f"EN_S{i}.txt").write_text(text + ".")
        lines.append(f"EN_S{i}.txt\tURW: Praise of Russia\tURW: Praise of Russia: Russia is resilient to sanctions")
    for i, text in enumerate(_CLIMATE):
        (en / "raw-documents" / f"EN_C{i}.txt").write_text(text + ".")
        lines.append(f"EN_C{i}.txt\tCC: Criticism of climate movement\t"
                     "CC: Criticism of climate movement: Ad hominem attacks on key activists")
    (en / "subtask-2-annotations.txt").write_text("\n".join(lines) + "\n")
    return tmp / "semeval"


def _detect(database_url: str) -> dict[str, object]:
    reports = json.loads(_run(database_url, "detect", "narratives", "--format", "json").stdout)
    return reports[0]["details"]  # type: ignore[no-any-return]


def test_second_run_loads_the_learned_part_and_a_change_refits_it(database_url: str, tmp_path: Path) -> None:
    store = Store.open(database_url)
    s = build_scenario(seed=7, scale=0.02)
    for src in s.sources:
        store.write(source_store.add_source, src, replace=True)
    store.write(document_store.upsert_documents, s.documents)
    store.close()

    imported = json.loads(_run(database_url, "narratives", "import", "semeval", str(_semeval_folder(tmp_path)),
                               "--examples", "20", "--format", "json").stdout)
    assert imported["created"] == 4

    first = _detect(database_url)
    assert first["known_narratives"] == 4 and first["learned"] == "fitted"
    second = _detect(database_url)
    assert second["learned"] == "cached" and second["reassigned"] == 0
    # the demo's sanctions story reaches the sanctions narrative either way
    listed = json.loads(_run(database_url, "narratives", "list", "--kind", "known", "--format", "json").stdout)
    praise = next(r for r in listed if r["name"].endswith("Praise of Russia"))
    shown = json.loads(_run(database_url, "narratives", "show", praise["id"], "--format", "json").stdout)
    assert shown["documents"] and all(d["components"].get("learned") is not None for d in shown["documents"])

    # an analyst adds an example: the known set changed, the learned part is fit again (and kept)
    _run(database_url, "narratives", "edit", praise["id"], "-e",
         "Russia's economy shrugged off the sanctions while Europe pays the bill.")
    third = _detect(database_url)
    assert third["learned"] == "fitted" and third["reassigned"] > 0
    assert _detect(database_url)["learned"] == "cached"

    # a renamed narrative needs no new fit: the fit reads the examples, not the names
    _run(database_url, "narratives", "edit", praise["id"], "--name", "Russia is immune to sanctions")
    assert _detect(database_url)["learned"] == "cached"
    renamed = json.loads(_run(database_url, "narratives", "show", praise["id"], "--format", "json").stdout)
    assert renamed["name"] == "Russia is immune to sanctions" and "renamed" in {x["kind"] for x in renamed["lineage"]}
