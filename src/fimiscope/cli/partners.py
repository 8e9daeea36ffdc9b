"""`fimiscope partners ...` (who may read and write what over TAXII, and pulling from them) and
`fimiscope taxii ...` (collections and what is published in them)."""

from __future__ import annotations

import secrets
from typing import Any

import typer

from fimiscope.cases.tlp import TLP_LEVELS, parse_tlp
from fimiscope.cli.app import app, open_store, settings
from fimiscope.cli.incidents import default_analyst
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, plain, stderr, stdout
from fimiscope.core.errors import InvalidInput
from fimiscope.store import Store
from fimiscope.store.share import Partner, ShareStore

partners_app = typer.Typer(help="Partner organisations: TAXII credentials, grants, pulling.", no_args_is_help=True)
taxii_app = typer.Typer(help="TAXII collections and what is published in them.", no_args_is_help=True)
collection_app = typer.Typer(help="TAXII collections.", no_args_is_help=True)
app.add_typer(partners_app, name="partners")
app.add_typer(taxii_app, name="taxii")
taxii_app.add_typer(collection_app, name="collection")

_FMT = typer.Option("table", "--format", help="table or json")


def partner_json(p: Partner) -> dict[str, Any]:
    data: dict[str, Any] = plain(p)
    data.pop("remote_token", None)  # never printed back
    data["active"] = p.active
    data["has_remote_token"] = bool(p.remote_token)
    return data


def _split(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for raw in values for v in raw.split(",") if v.strip()))


@partners_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Short name of the partner organisation."),
    read: list[str] = typer.Option([], "--read", help="Collection it may read (repeatable or comma-separated)."),
    write: list[str] = typer.Option([], "--write", help="Collection it may write to (lands in quarantine)."),
    max_tlp: str = typer.Option("green", "--max-tlp", help=f"Highest TLP it may receive: {', '.join(TLP_LEVELS)}."),
    identity: str = typer.Option(None, "--identity", help="Its STIX identity id (what it writes must be created by)."),
    remote_url: str = typer.Option(None, "--remote-url", help="Its TAXII server (discovery or API root), to pull."),
    remote_token: str = typer.Option(None, "--remote-token", help="The credential it issued to us."),
    remote_collections: list[str] = typer.Option([], "--remote-collection", help="Its collections to pull."),
    no_token: bool = typer.Option(False, "--no-token", help="Issue no credential (pull-only partner)."),
    fmt: str = _FMT,
) -> None:
    """Register a partner and issue its credential (shown once, stored hashed)."""
    from fimiscope.share import stix

    check_format(fmt)
    shares = ShareStore(open_store(ctx))
    known = {c["id"] for c in shares.collections()}
    reads, writes = _split(read), _split(write)
    missing = [c for c in [*reads, *writes] if c not in known]
    if missing:
        raise InvalidInput(f"no collection {', '.join(missing)}: create it with `fimiscope taxii collection add`")
    if identity and not identity.startswith("identity--"):
        raise InvalidInput("--identity must be a STIX identity id (identity--<uuid>)")
    token = None if no_token else "fms_" + secrets.token_urlsafe(32)
    p = shares.add_partner(
        Partner(
            id="",
            name=name,
            identity_id=identity or stix._sid("identity", "partner", name),
            read_collections=reads,
            write_collections=writes,
            max_tlp=parse_tlp(max_tlp),
            remote_url=remote_url,
            remote_token=remote_token,
            remote_collections=_split(remote_collections),
        ),
        token,
    )
    data = partner_json(p)
    data["token"] = token
    if fmt == "json":
        emit_json(data)
        return
    emit_record(data, fmt, title=f"Partner {p.name}")
    if token:
        stderr.print("The token is shown only now: give it to the partner over a secure channel.")


@partners_app.command("list")
def list_(ctx: typer.Context, fmt: str = _FMT) -> None:
    """Partners and what each may see."""
    check_format(fmt)
    rows = ShareStore(open_store(ctx)).partners()
    emit_list(
        rows,
        fmt,
        [
            ("name", lambda p: p.name),
            ("active", lambda p: "yes" if p.active else "revoked"),
            ("max tlp", lambda p: f"TLP:{p.max_tlp.upper()}"),
            ("read", lambda p: ", ".join(p.read_collections)),
            ("write", lambda p: ", ".join(p.write_collections)),
            ("pulls from", lambda p: p.remote_url),
        ],
        title="Partners",
        empty="No partners yet: `fimiscope partners add NAME --read COLLECTION`.",
        to_json=partner_json,
    )


@partners_app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many access-log rows."),
    fmt: str = _FMT,
) -> None:
    """A partner's grants and its access log: which version of which object it has fetched."""
    check_format(fmt)
    shares = ShareStore(open_store(ctx))
    p = shares.partner(name)
    access = shares.access_log(p.id, limit=limit)
    for row in access:
        row["tlp"] = TLP_LEVELS[row.pop("tlp_rank")]
        row.pop("partner_id")
        row.pop("partner")
    data = partner_json(p)
    data["access"] = access
    if fmt == "json":
        emit_json(data)
        return
    emit_record({k: v for k, v in data.items() if k != "access"}, fmt, title=f"Partner {name}")
    emit_list(
        access,
        fmt,
        [
            ("fetched", lambda r: r["last_at"]),
            ("collection", lambda r: r["collection"]),
            ("type", lambda r: r["type"]),
            ("id", lambda r: r["id"]),
            ("version", lambda r: r["version"]),
            ("tlp", lambda r: f"TLP:{r['tlp'].upper()}"),
            ("times", lambda r: r["fetches"]),
        ],
        title="Fetched over TAXII",
        empty="It has fetched nothing yet.",
    )


@partners_app.command("update")
def update(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    read: list[str] = typer.Option(None, "--read", help="Replace the collections it may read."),
    write: list[str] = typer.Option(None, "--write", help="Replace the collections it may write to."),
    max_tlp: str = typer.Option(
        None, "--max-tlp", help=f"Highest TLP it may receive: {', '.join(TLP_LEVELS)}."
    ),
    remote_url: str = typer.Option(None, "--remote-url", help="The partner's TAXII API root, for `partners pull`."),
    remote_token: str = typer.Option(None, "--remote-token", help="Token for the partner's TAXII server."),
    remote_collections: list[str] = typer.Option(
        None, "--remote-collection", help="Its collections to pull (repeatable; replaces the list)."
    ),
    fmt: str = _FMT,
) -> None:
    """Change a partner's grants or the TAXII server we pull from."""
    check_format(fmt)
    shares = ShareStore(open_store(ctx))
    values: dict[str, Any] = {}
    known = {c["id"] for c in shares.collections()}
    for key, given in (("read_collections", read), ("write_collections", write)):
        if given:
            cols = _split(given)
            missing = [c for c in cols if c not in known]
            if missing:
                raise InvalidInput(f"no collection {', '.join(missing)}")
            values[key] = cols
    if max_tlp:
        values["max_tlp"] = parse_tlp(max_tlp)
    if remote_url:
        values["remote_url"] = remote_url
    if remote_token:
        values["remote_token"] = remote_token
    if remote_collections:
        values["remote_collections"] = _split(remote_collections)
    if not values:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    emit_record(partner_json(shares.update_partner(name, **values)), fmt, title=f"Partner {name}")


@partners_app.command("revoke")
def revoke(ctx: typer.Context, name: str = typer.Argument(..., help="Partner name."), fmt: str = _FMT) -> None:
    """Revoke a partner's credential at once."""
    check_format(fmt)
    p = ShareStore(open_store(ctx)).revoke(name)
    emit_record(partner_json(p), fmt, title=f"Partner {name} revoked")


@partners_app.command("review")
def review(
    ctx: typer.Context, name: str = typer.Argument(None, help="Only this partner's writes."), fmt: str = _FMT
) -> None:
    """Partner writes waiting in quarantine."""
    from fimiscope.share import taxii_server

    check_format(fmt)
    rows = taxii_server.quarantined(open_store(ctx), name)
    emit_list(
        rows,
        fmt,
        [
            ("pk", lambda r: r.pk),
            ("from", lambda r: r.origin),
            ("to collection", lambda r: r.target_collection),
            ("id", lambda r: r.stix_id),
            ("name", lambda r: r.data.get("name")),
            ("added", lambda r: r.date_added),
        ],
        title="Quarantine",
        empty="Nothing waiting for review.",
    )


@partners_app.command("accept")
def accept(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="Only this partner's writes."),
    pks: list[int] = typer.Option([], "--pk", help="Only these quarantine rows (see `partners review`)."),
    fmt: str = _FMT,
) -> None:
    """Move reviewed writes from quarantine into the collection they were written to.

    A write whose id is ours, or is held as created by another identity, is not moved: it stays
    in quarantine as a conflict (drop it with `partners reject`)."""
    from fimiscope.share import taxii_server

    check_format(fmt)
    review = taxii_server.accept(open_store(ctx), pks or None, name)
    conflicts = [{"pk": r.pk, "id": r.stix_id, "from": r.origin, "reason": why} for r, why in review.conflicts]
    if fmt == "json":
        emit_json({"accepted": [r.pk for r in review.accepted], "conflicts": conflicts})
        return
    stdout.print(f"{len(review.accepted)} objects accepted, {len(conflicts)} left in quarantine as conflicts")
    for c in conflicts:
        stderr.print(f"conflict: pk {c['pk']} {c['id']} from {c['from']}: {c['reason']}")


@partners_app.command("reject")
def reject(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="Only this partner's writes."),
    pks: list[int] = typer.Option([], "--pk", help="Only these quarantine rows (see `partners review`)."),
    fmt: str = _FMT,
) -> None:
    """Drop writes from quarantine after review (they are not kept anywhere)."""
    from fimiscope.share import taxii_server

    check_format(fmt)
    if not pks and not name:
        raise InvalidInput("say what to drop: a partner NAME and/or --pk N (see `partners review`)")
    n = taxii_server.reject(open_store(ctx), pks or None, name)
    if fmt == "json":
        emit_json({"dropped": n})
        return
    stdout.print(f"{n} objects dropped from quarantine")


@partners_app.command("pull")
def pull(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    who: str = typer.Option(None, "--analyst", "--actor", help="Who pulled (the audit's name); default $USER."),
    fmt: str = _FMT,
) -> None:
    """Fetch what the partner added since the last pull and import it (provenance: the partner)."""
    from fimiscope.share import taxii_client

    check_format(fmt)
    s = settings(ctx)
    res = taxii_client.pull(
        Store.from_settings(s), name, who or default_analyst(), allow_private=s.allow_private_networks
    )
    emit_list(
        res,
        fmt,
        [
            ("collection", lambda r: r.collection),
            ("fetched", lambda r: r.fetched),
            ("new", lambda r: r.new),
            ("known", lambda r: r.known),
            ("incidents +", lambda r: r.incidents_created),
            ("added after", lambda r: r.added_after),
        ],
        title=f"Pulled from {name}",
        empty="The partner shares no collection with us.",
    )


@collection_app.command("add")
def collection_add(
    ctx: typer.Context,
    collection_id: str = typer.Argument(..., help="Short id, e.g. fimi-green."),
    title: str = typer.Option(None, "--title", help="Title partners see (default: the id)."),
    description: str = typer.Option("", "--description", help="What the collection holds, for partners."),
    fmt: str = _FMT,
) -> None:
    """Create a TAXII collection."""
    check_format(fmt)
    shares = ShareStore(open_store(ctx))
    shares.add_collection(collection_id, title or collection_id, description)
    if fmt == "json":
        emit_json(next((c for c in shares.collections() if c["id"] == collection_id), {"id": collection_id}))
        return
    stdout.print(f"collection {collection_id} ready")


@collection_app.command("list")
def collection_list(ctx: typer.Context, fmt: str = _FMT) -> None:
    """The TAXII collections partners may be granted."""
    check_format(fmt)
    rows = ShareStore(open_store(ctx)).collections()
    emit_list(rows, fmt, [("id", lambda c: c["id"]), ("title", lambda c: c["title"])], title="TAXII collections")


@taxii_app.command("publish")
def publish(
    ctx: typer.Context,
    collection_id: str = typer.Argument(..., help="The collection to publish in (see `taxii collection list`)."),
    incident: str = typer.Option(None, "--incident", help="Only this incident (default: every incident)."),
    fmt: str = _FMT,
) -> None:
    """Offer incidents in a collection; each partner sees only what its TLP and grants allow."""
    from fimiscope.share import stix, taxii_server

    check_format(fmt)
    store = open_store(ctx)
    new, known = taxii_server.publish(store, collection_id, stix.publishable(store, incident))
    if fmt == "json":
        emit_json({"collection": collection_id, "new": new, "known": known})
        return
    stdout.print(f"{collection_id}: {new} objects added, {known} already there")
