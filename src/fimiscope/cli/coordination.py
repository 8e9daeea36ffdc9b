"""`fimiscope detect coordination` and `fimiscope coordination groups|show|export`: groups of
accounts acting in concert (docs/coordination.md; JSON shapes in docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from fimiscope.cli.app import app, detect_app, open_store, settings
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, progress, stderr, stdout
from fimiscope.core.errors import InvalidInput
from fimiscope.store import coordination as db

coordination_app = typer.Typer(help="Groups of accounts and outlets acting in concert.", no_args_is_help=True)
app.add_typer(coordination_app, name="coordination")


@detect_app.command("coordination")
def detect_coordination(
    ctx: typer.Context,
    window: float = typer.Option(
        None, "--window", min=0.001, help="Co-action window in seconds for every kind (default: estimated per kind)."
    ),
    min_repeat: int = typer.Option(
        None, "--min-repeat", min=1, help="Separate episodes a pair needs to count (default 2)."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Find groups of accounts that co-link, co-share, co-post or co-hashtag repeatedly and
    faster than chance; write groups and signals. Prints the windows it used."""
    from fimiscope.detect.coordination import CoordinationStage, Params

    check_format(fmt)
    cfg = settings(ctx)
    store = open_store(ctx)
    configured = CoordinationStage.from_settings(cfg).params
    params = Params(
        window=window if window is not None else configured.window,
        min_repeat=min_repeat if min_repeat is not None else configured.min_repeat,
    )
    stage = CoordinationStage(params, force=True)
    with progress("coordination") as update:
        report = stage.run(store, batch_size=cfg.batch_size, progress=update)
    if fmt == "json":
        emit_json(report)
        return
    windows = report.details.get("windows", {})
    for kind, w in windows.items():
        stderr.print(f"window {kind}: {w['seconds']:g} s ({w['method']})")
    stdout.print(
        f"coordination: {report.processed} posts, {len(report.details.get('groups', []))} groups, "
        f"{report.signals} signals"
    )


def _kinds(r: dict[str, object]) -> str:
    kinds = r["kinds"] if isinstance(r["kinds"], dict) else {}
    return ",".join(f"{k}:{v}" for k, v in sorted(kinds.items()) if v)


@coordination_app.command("groups")
def groups(
    ctx: typer.Context,
    min_size: int = typer.Option(0, "--min-size", min=0, help="Only groups of at least this many accounts."),
    kind: str = typer.Option(None, "--kind", help="link, share, post or hashtag"),
    platform: str = typer.Option(None, "--platform", help="Only this platform (e.g. telegram, x)."),
    affiliation: str = typer.Option(
        None, "--affiliation", help="Only groups with an account of this affiliation (e.g. state_controlled)."
    ),
    dissolved: bool = typer.Option(False, "--dissolved", help="Groups earlier runs found and the last did not."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many groups."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Coordinated groups, strongest first."""
    check_format(fmt)
    if kind and kind not in ("link", "share", "post", "hashtag"):
        raise InvalidInput(f"unknown kind {kind!r}; use link, share, post or hashtag")
    store = open_store(ctx)
    with store.connect() as conn:
        rows = db.list_groups(
            conn,
            min_size=min_size,
            kind=kind,
            platform=platform,
            affiliation=affiliation,
            status="dissolved" if dissolved else "active",
            limit=limit,
        )
    emit_list(
        rows,
        fmt,
        [
            ("id", lambda r: r["id"]),
            ("size", lambda r: r["size"]),
            ("score", lambda r: r["score"]),
            ("kinds", _kinds),
            ("fastest s", lambda r: r["fastest_s"]),
            ("platforms", lambda r: ",".join(r["platforms"])),
            ("accounts", lambda r: ", ".join(r["accounts"][:6]) + (" ..." if len(r["accounts"]) > 6 else "")),
        ],
        title="coordinated groups",
        empty="No coordinated groups: run `fimiscope detect coordination`.",
    )


@coordination_app.command("show")
def show(
    ctx: typer.Context,
    group_id: str = typer.Argument(..., help="Group id (grp_...)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """A group: members, the pairs that tie them, and the shared items with each member's delay."""
    check_format(fmt)
    store = open_store(ctx)
    with store.connect() as conn:
        g = db.get_group(conn, group_id)
    if fmt == "json":
        emit_json(g)
        return
    emit_record(
        {
            k: g[k]
            for k in (
                "id",
                "status",
                "size",
                "score",
                "density",
                "kinds",
                "fastest_s",
                "median_s",
                "first_at",
                "last_at",
                "platforms",
                "languages",
                "affiliations",
                "signal_id",
            )
        },
        "table",
        title=f"group {group_id}",
    )
    emit_list(
        g["members"],
        "table",
        [
            ("account", lambda m: m["account"]),
            ("platform", lambda m: m["platform"]),
            ("affiliation", lambda m: m["affiliation"]),
            ("actions", lambda m: m["actions"]),
            ("first action", lambda m: m["first_action_at"]),
            ("hijacked?", lambda m: "yes" if m["hijacked"] else ""),
        ],
        title="members",
    )
    emit_list(
        g["items"],
        "table",
        [
            ("kind", lambda i: i["kind"]),
            ("item", lambda i: str(i["item"])[:70]),
            ("first", lambda i: i["at"]),
            ("members (delay s)", lambda i: ", ".join(f"{a['account']} +{a['delay_s']:.0f}" for a in i["actions"])),
        ],
        title="shared items",
    )


@coordination_app.command("export")
def export(
    ctx: typer.Context,
    group_id: str = typer.Argument(..., help="Group id (grp_...)."),
    gexf: Path = typer.Option(None, "--gexf", help="Write the account network as GEXF (Gephi) here."),
    graphml: Path = typer.Option(None, "--graphml", help="Write the account network as GraphML here."),
    stix: Path = typer.Option(
        None, "--stix", help="Write the group as a STIX 2.1 bundle here (intrusion-set + channels)."
    ),
    tlp: str = typer.Option(
        "amber", "--tlp", help="TLP marking of the STIX bundle: clear, green, amber, amber+strict, red."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json: the files written."),
) -> None:
    """The group's account network for Gephi and other graph tools, or the group as STIX."""
    import orjson

    from fimiscope.share import network
    from fimiscope.share.markings import TLP2_IDS

    check_format(fmt)
    if not gexf and not graphml and not stix:
        raise InvalidInput("name a file: --gexf FILE, --graphml FILE and/or --stix FILE")
    if tlp not in TLP2_IDS:
        raise InvalidInput(f"unknown TLP {tlp!r}; use one of {', '.join(TLP2_IDS)}")
    store = open_store(ctx)
    with store.connect() as conn:
        g = db.get_group(conn, group_id)
    written: dict[str, str] = {}
    for kind, path, data in (("gexf", gexf, network.gexf), ("graphml", graphml, network.graphml)):
        if path:
            path.write_bytes(data(g))
            written[kind] = str(path)
    if stix:
        from fimiscope.share.stix import group_bundle

        stix.write_bytes(orjson.dumps(group_bundle(g, tlp), option=orjson.OPT_INDENT_2))
        written["stix"] = str(stix)
    if fmt == "json":
        emit_json({"group": group_id, "written": written})
        return
    for wrote in written.values():
        stderr.print(f"wrote {wrote}")
