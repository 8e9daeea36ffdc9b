"""`fimiscope export stix` and `fimiscope import stix`: STIX 2.1 bundles of incidents."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from fimiscope.cli.app import export_app, import_app, open_store
from fimiscope.cli.incidents import default_analyst
from fimiscope.cli.output import check_format, emit_json, emit_list, stdout
from fimiscope.core.errors import InvalidInput


@export_app.command("stix")
def export_stix(
    ctx: typer.Context,
    incident: str = typer.Option(None, "--incident", help="Only this incident (default: all, with kept imports)."),
    output: Path = typer.Option(None, "-o", "--output", help="File to write (default: stdout)."),
    fmt: str = typer.Option(
        "json", "--format", help="json: the bundle itself (the default: it is the result); table: objects by type."
    ),
) -> None:
    """Export incidents as a STIX 2.1 bundle (OpenCTI-compatible)."""
    from collections import Counter

    from fimiscope.share import stix  # stix2 is slow to import: only when used

    check_format(fmt)
    bundle = stix.export_bundle(open_store(ctx), incident)
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    by_type = Counter(str(o.get("type")) for o in bundle["objects"])
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(bundle['objects'])} objects to {output}", err=True)
    if fmt == "table":
        emit_list([{"type": t, "objects": n} for t, n in sorted(by_type.items())], "table",
                  [("type", lambda r: r["type"]), ("objects", lambda r: r["objects"])], title="STIX bundle")
    elif output is None:
        sys.stdout.write(text + "\n")


@import_app.command("stix")
def import_stix(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A STIX 2.1 bundle (JSON)."),
    who: str = typer.Option(None, "--analyst", "--actor", help="Name recorded in incident audit logs."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Import a STIX 2.1 bundle: validated first, all or nothing; re-importing adds nothing."""
    check_format(fmt)
    from fimiscope.share import stix

    try:
        if path.stat().st_size > stix.MAX_BUNDLE_BYTES:
            raise InvalidInput(f"{path} is larger than {stix.MAX_BUNDLE_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    objects = stix.parse_bundle(data)
    res = stix.import_objects(open_store(ctx), objects, f"import:{path.name}", who or default_analyst())
    if fmt == "json":
        emit_json(res)
        return
    stdout.print(
        f"{res.objects} objects: {res.new} new, {res.known} already known; "
        f"incidents {res.incidents_created} created, {res.incidents_updated} updated"
    )
