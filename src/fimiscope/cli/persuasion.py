"""`fimiscope detect persuasion` and `fimiscope persuasion show|classify|profile|techniques`:
persuasion techniques per paragraph."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from fimiscope.cli.app import app, detect_app, open_store, run_stages
from fimiscope.cli.output import check_format, emit_json, emit_list, stdout
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.store import documents as document_store
from fimiscope.store import persuasion as db

persuasion_app = typer.Typer(help="Persuasion techniques per paragraph (SemEval-2023 T3).", no_args_is_help=True)
app.add_typer(persuasion_app, name="persuasion")


@detect_app.command("persuasion")
def detect_persuasion(
    ctx: typer.Context,
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Documents per committed batch."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Mark persuasion techniques in the paragraphs of new documents; signal dense ones from flagged sources."""
    check_format(fmt)
    (report,) = run_stages(ctx, ["detect.persuasion"], batch_size)
    if fmt == "json":
        emit_json(report)
        return
    stdout.print(f"persuasion: {report.processed} documents, {report.signals} signals, watermark {report.watermark}")


def _with_text(text: str, result: dict[str, Any]) -> dict[str, Any]:
    for p in result["paragraphs"]:
        p["text"] = text[p["start"]:p["end"]]
        for sp in p["spans"]:
            sp["text"] = text[sp["start"]:sp["end"]]
    return result


def _print(result: dict[str, Any]) -> None:
    from fimiscope.index import persuasion as index  # numpy: loaded by the commands that use it

    if not result["paragraphs"]:
        stdout.print(f"No technique in {result['n_paragraphs']} paragraphs.")
        return
    for p in result["paragraphs"]:
        techs = ", ".join(f"{index.technique_label(t)} {p['scores'].get(t, 0):.2f}" for t in p["techniques"])
        stdout.print(f"[bold]¶{p['index']}[/bold] {techs}", highlight=False)
        stdout.print(f"  {p['text'][:300]}", highlight=False, markup=False)
        words = sorted({sp["text"] for sp in p["spans"]})
        if words:
            stdout.print("  spans: " + "; ".join(words[:12]), highlight=False, markup=False)


@persuasion_app.command("show")
def show(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., help="Document id (doc_...)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """A document's paragraphs with their techniques, scores and spans (as the detector stored them)."""
    check_format(fmt)
    store = open_store(ctx)
    doc = store.read(document_store.get_document, doc_id)
    stored = store.read(db.document_paragraphs, doc_id)
    if stored is None:
        raise NotFound(f"{doc_id} has not been classified yet; run `fimiscope detect persuasion`")
    result = _with_text(doc.text, {"document_id": doc_id, "title": doc.title, "language": doc.language, **stored})
    if fmt == "json":
        emit_json(result)
        return
    stdout.print(f"{doc.title or doc_id}: {result['n_with_techniques']} of {result['n_paragraphs']} paragraphs "
                 f"with techniques (model {result['model_version']})", highlight=False)
    _print(result)


@persuasion_app.command("classify")
def classify(
    file: str = typer.Argument("-", help="A text file, one paragraph per line ('-': standard input)."),
    language: str = typer.Option(
        None, "--lang", "--language", help="ISO 639-1 code (en, fr, de, it, pl, ru; cs, sk, uk)."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Classify a text without storing it: paragraphs with techniques, scores and spans."""
    from fimiscope.detect.persuasion import classify_text
    from fimiscope.index import persuasion as index  # numpy: loaded by the commands that use it

    check_format(fmt)
    try:
        text = sys.stdin.read() if file == "-" else open(file, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file} is not UTF-8 text") from exc
    model = index.shipped_model()
    n, rows = classify_text(model, text, language)
    result = _with_text(text, {
        "language": language, "model_version": model.version, "n_paragraphs": n, "n_with_techniques": len(rows),
        "paragraphs": [{"index": r["para_index"], "start": r["span_start"], "end": r["span_end"],
                        "techniques": r["techniques"], "scores": r["scores"], "spans": r["spans"]} for r in rows]})
    if fmt == "json":
        emit_json(result)
        return
    _print(result)


def _rate(technique: str) -> Callable[[Any], str]:
    return lambda w: f"{w['rates'].get(technique, 0):.3f}"


@persuasion_app.command("profile")
def profile(
    ctx: typer.Context,
    source: str = typer.Option(None, "--source", help="Source name, domain or id."),
    narrative: str = typer.Option(None, "--narrative", help="Narrative id (nar_...)."),
    weeks: int = typer.Option(26, "--weeks", min=1, help="Weeks back from now."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Technique rates per week (share of paragraphs) of a source or a narrative."""
    from fimiscope.index import persuasion as index  # numpy: loaded by the commands that use it

    check_format(fmt)
    if bool(source) == bool(narrative):
        raise InvalidInput("give one of --source or --narrative")
    store = open_store(ctx)
    with store.connect() as conn:
        if source:
            result = db.source_profile(conn, db.source_id_for(conn, source), weeks=weeks)
        else:
            result = db.narrative_profile(conn, narrative, weeks=weeks)
    if fmt == "json":
        emit_json(result)
        return
    top = list(result["totals"])[:5]
    columns: list[tuple[str, Callable[[Any], Any]]] = [
        ("week", lambda w: w["week"]), ("documents", lambda w: w["documents"]),
        ("paragraphs", lambda w: w["paragraphs"])]
    columns += [(index.technique_label(t), _rate(t)) for t in top]
    emit_list(result["weeks"], "table", columns,
              empty="No classified documents in that time; run `fimiscope detect persuasion`.")


@persuasion_app.command("techniques")
def techniques(fmt: str = typer.Option("table", "--format", help="table or json")) -> None:
    """The 23 techniques: group, DISARM techniques proposed, signal threshold."""
    from fimiscope.index import persuasion as index  # numpy: loaded by the commands that use it

    check_format(fmt)
    from fimiscope.detect.persuasion import DISARM

    model = index.shipped_model()
    rows = [{"technique": t, "label": index.technique_label(t), "group": index.GROUP_OF[t], "disarm": list(DISARM[t]),
             "decision_threshold": round(float(model.thresholds[i]), 3),
             "signal_threshold": (round(float(model.signal_thresholds[i]), 3)
                                  if model.signal_thresholds[i] <= 1 else None)}
            for i, t in enumerate(model.labels)]
    emit_list(rows, fmt, [("technique", lambda r: r["technique"]), ("group", lambda r: r["group"]),
                          ("disarm", lambda r: ", ".join(r["disarm"])),
                          ("decision", lambda r: r["decision_threshold"]),
                          ("signal", lambda r: "never" if r["signal_threshold"] is None else r["signal_threshold"])])

