"""`fimiscope claims import|add|list|show|search|pairs|eval` and `fimiscope detect claims`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fimiscope.cli.app import app, detect_app, open_store, run_stages
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, plain, progress, stdout
from fimiscope.collect.claims_import import FORMATS, ImportedClaim, read_claims
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Claim, Provenance
from fimiscope.store import signals as signal_store
from fimiscope.store.claims import ClaimRecord, add_claim, get_claim, list_claims, upsert_claims

claims_app = typer.Typer(help="The database of debunked claims that documents are matched against.",
                         no_args_is_help=True)
app.add_typer(claims_app, name="claims")

_COLUMNS = [
    ("id", lambda r: r.id),
    ("language", lambda r: r.claim.language),
    ("date", lambda r: r.claim.published_at.date().isoformat() if r.claim.published_at else None),
    ("verdict", lambda r: r.claim.verdict),
    ("claim", lambda r: r.claim.text[:120] + ("…" if len(r.claim.text) > 120 else "")),
]


@claims_app.command("import")
def import_(
    ctx: typer.Context,
    format_: str = typer.Argument(..., metavar="FORMAT", help=f"One of {', '.join(FORMATS)}."),
    path: Path = typer.Argument(..., help="The file: CSV, JSON/JSONL, a ClaimReview DataFeed or an HTML page."),
    mapping: list[str] = typer.Option([], "--map", help="FIELD=COLUMN (repeatable), e.g. --map text=summary."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Import claims. The same claim (same normalised text) is stored once; re-importing adds nothing."""
    check_format(fmt)
    if format_ not in FORMATS:
        raise InvalidInput(f"unknown claim format {format_!r}; use one of {', '.join(FORMATS)}")
    good: list[ImportedClaim] = []
    rejections = []
    for item in read_claims(format_, path, mapping):
        if isinstance(item, ImportedClaim):
            good.append(item)
        else:
            rejections.append(item)
    store = open_store(ctx)
    with progress("claims", len(good)):
        result = upsert_claims(store, [(g.claim, g.extras()) for g in good])
    if fmt == "json":
        emit_json(
            {
                "file": str(path),
                "format": format_,
                "read": len(good),
                "new": result.new,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": len(rejections),
                "rejections": [plain(r) for r in rejections],
            }
        )
        return
    stdout.print(
        f"{path}: {len(good)} claims read, {result.new} new, {result.updated} merged into existing, "
        f"{result.unchanged} unchanged, {len(rejections)} rejected",
        markup=False,
        highlight=False,
    )
    for rej in rejections[:20]:
        stdout.print(f"  rejected {rej}", markup=False, highlight=False)


@claims_app.command("add")
def add(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The claim as it circulates."),
    title: str = typer.Option(None, "--title", help="Short title (default: the claim's opening)."),
    language: str = typer.Option(None, "--lang", "--language", help="ISO 639-1 code (en, cs, ru, ...)."),
    verdict: str = typer.Option(None, "--verdict", help="e.g. false, misleading."),
    debunk: str = typer.Option(None, "--debunk", help="The disproof, in a sentence or two."),
    debunk_url: str = typer.Option(None, "--debunk-url", help="The fact-check's URL."),
    by: str = typer.Option("analyst", "--by", help="Who entered it."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Add one claim by hand."""
    check_format(fmt)
    if debunk_url and not debunk_url.lower().startswith(("http://", "https://")):
        raise InvalidInput(f"--debunk-url {debunk_url!r} is not an http(s) URL")
    rec = add_claim(
        open_store(ctx),
        Claim(
            text=text,
            title=title,
            language=language.lower() if language else None,
            verdict=verdict,
            debunk=debunk,
            debunk_url=debunk_url,
            provenance=Provenance(by=by, where="cli"),
        ),
    )
    if fmt == "json":
        emit_json(rec.as_dict())
    else:
        stdout.print(f"claim {rec.id}", markup=False, highlight=False)


@claims_app.command("list")
def list_(
    ctx: typer.Context,
    language: str = typer.Option(None, "--lang", "--language", help="ISO 639-1 code (en, cs, ru, ...)."),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="At most this many claims."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many first (paging)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """List claims, most recently added first."""
    check_format(fmt)
    rows = list_claims(open_store(ctx), language=language, limit=limit, offset=offset)
    emit_list(rows, fmt, _COLUMNS, empty="No claims yet. Import some with `fimiscope claims import`.",
              to_json=ClaimRecord.as_dict)


@claims_app.command("show")
def show(
    ctx: typer.Context,
    claim_id: str = typer.Argument(..., help="Claim id (clm_...)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Show one claim with its debunk and provenance."""
    check_format(fmt)
    rec = get_claim(open_store(ctx), claim_id)
    emit_record(rec.as_dict(), fmt, title=rec.claim.title or rec.id)


@claims_app.command("search")
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="Words or a whole sentence: claims are ranked by BM25."),
    limit: int = typer.Option(10, "--limit", min=1, max=1000, help="At most this many matches."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Find claims like a sentence (the same lexical index the detector uses)."""
    check_format(fmt)
    from fimiscope.detect.claims import matcher_for
    from fimiscope.store.claims import get_claims

    store = open_store(ctx)
    _, matcher = matcher_for(store, lexical_only=True)
    hits = matcher.index.query(query, limit)
    found = get_claims(store, [h[0] for h in hits])
    rows = [(found[cid], score) for cid, score in hits if cid in found]
    emit_list(
        rows,
        fmt,
        [("score", lambda r: r[1]), *[(name, lambda r, g=get: g(r[0])) for name, get in _COLUMNS]],
        empty="No claim shares a word with that.",
        to_json=lambda r: {"score": round(r[1], 4), **r[0].as_dict()},
    )


def _judged_pairs(store: Any, statuses: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for st in statuses:
        offset = 0
        while True:
            batch = store.read(signal_store.list_signals, type="claim_match", status=st, limit=1000, offset=offset)
            if not batch:
                break
            offset += len(batch)
            for sig in batch:
                d = sig.details
                rows.append(
                    {
                        "signal_id": sig.id,
                        "verdict": sig.status.value,
                        "sentence": d.get("sentence"),
                        "claim_id": d.get("claim_id"),
                        "claim_text": d.get("claim_text"),
                        "score": sig.score,
                        "components": d.get("components"),
                        "document_id": sig.key.split(":")[1] if sig.key else None,
                    }
                )
    return rows


@claims_app.command("pairs")
def pairs(
    ctx: typer.Context,
    status: list[str] = typer.Option(["confirmed", "dismissed"], "--status", help="Verdicts to export."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Export analyst-judged (sentence, claim, verdict) pairs for evaluation."""
    check_format(fmt)
    store = open_store(ctx)
    rows = _judged_pairs(store, status)
    emit_list(
        rows,
        fmt,
        [("verdict", lambda r: r["verdict"]), ("score", lambda r: r["score"]), ("sentence", lambda r: r["sentence"]),
         ("claim", lambda r: r["claim_text"])],
        empty="No judged claim matches yet (`fimiscope signals set-status confirmed|dismissed ID`).",
        to_json=lambda r: r,
    )


@claims_app.command("eval")
def eval_(
    ctx: typer.Context,
    threshold: float | None = typer.Option(
        None, "--threshold", min=0.0, max=1.0, help="The score threshold to judge (default: the detector's)."
    ),
    target: float = typer.Option(
        0.9, "--target-precision", min=0.0, max=1.0, help="Precision the suggested threshold must reach."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Precision of claim matches on the analysts' verdicts, and a threshold that reaches the target."""
    check_format(fmt)
    from fimiscope.detect.claims import THRESHOLD, verdict_report

    threshold = THRESHOLD if threshold is None else threshold
    store = open_store(ctx)
    report = verdict_report(_judged_pairs(store, ["confirmed", "dismissed"]), threshold=threshold,
                            target_precision=target)
    if fmt == "json":
        emit_json(report)
        return
    if not report["judged"]:
        stdout.print("No judged claim matches yet (`fimiscope signals set-status confirmed|dismissed ID`).")
        return
    at = report["at_threshold"]
    emit_record(
        {
            "judged": report["judged"],
            "confirmed": report["confirmed"],
            "dismissed": report["dismissed"],
            f"precision at {threshold}": at["precision"],
            f"suggested threshold (precision >= {target})": report["suggested_threshold"],
        },
        "table",
        title="claim matches on analyst verdicts",
    )


@detect_app.command("claims")
def detect_claims(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Match new documents (all of them after new claims arrive) against the claim database."""
    check_format(fmt)
    (report,) = run_stages(ctx, ["detect.claims"])
    if fmt == "json":
        emit_json(report)
    else:
        emit_record(plain(report), "table", title="detect.claims")
