"""WARC / WARC.gz archives (Common Crawl News, Browsertrix, wget --warc-file): every HTML
response record becomes a page to extract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fimiscope.collect.base import CollectContext, Connector, ItemError, RawPage, connector
from fimiscope.collect.files import _unchanged, location_path
from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Source

MAX_RECORD_BYTES = 10 * 1024 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@connector
class WarcConnector(Connector):
    kind = "warc"
    description = "a WARC or WARC.gz file (or a folder of them): HTML responses are extracted"

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[RawPage | ItemError]:
        root = location_path(source)
        files = sorted(p for p in root.rglob("*.warc*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if _unchanged(path, ctx):
                continue
            yield from self._read(path, source, ctx)

    def _read(self, path: Path, source: Source, ctx: CollectContext) -> Iterator[RawPage | ItemError]:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed

        skipped = 0
        # Hold one page back: warcio ends quietly at a truncated gzip member, so the last page
        # is only trusted once the next one starts or the archive proves whole.
        pending: tuple[int, RawPage] | None = None
        damage: str | None = None
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            offset = 0
            seen = 0
            try:
                for record in records:
                    if record.format != "warc":
                        continue  # warcio reads junk as an ARC record; we read WARC only
                    seen += 1
                    offset = records.offset  # get_record_offset() would consume the record
                    if record.rec_type != "response":
                        continue
                    page = self._page(record, source)
                    if page is None:
                        skipped += 1
                        continue
                    if isinstance(page, ItemError):
                        page.where = f"{path.name}@{offset}"
                        yield page
                        continue
                    if pending is not None:
                        yield pending[1]
                    pending = (offset, page)
            except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
                damage = str(exc)
        if damage is None:
            damage = _gzip_damage(path)
        if damage is None and seen == 0:
            damage = "no WARC record found (is it a WARC file?)"
        if damage is not None:
            where = pending[0] if pending is not None else offset
            yield ItemError(where=f"{path.name}@{where}", reason=f"damaged archive, reading stopped: {damage}")
        elif pending is not None:
            yield pending[1]
        if skipped:
            ctx.log(f"{path.name}: {skipped} non-HTML response records skipped")

    @staticmethod
    def _page(record: Any, source: Source) -> RawPage | ItemError | None:
        url = record.rec_headers.get_header("WARC-Target-URI")
        http = record.http_headers
        ctype = (http.get_header("Content-Type") or "") if http else ""
        if not url or not ctype.lower().startswith(_HTML_TYPES):
            return None
        body = record.content_stream().read(MAX_RECORD_BYTES + 1)
        if len(body) > MAX_RECORD_BYTES:
            return ItemError(where="", reason="record body over 10 MB; skipped")
        charset = None
        if "charset=" in ctype.lower():
            charset = ctype.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'")
        fetched = record.rec_headers.get_header("WARC-Date")
        try:
            fetched_at = parse_time(fetched) if fetched else None
        except InvalidInput:
            fetched_at = None
        return RawPage(url=url, body=body, source=_host(url) or source.name, content_type=ctype,
                       encoding=charset, fetched_at=fetched_at)


def _gzip_damage(path: Path) -> str | None:
    """Why a .gz archive is incomplete, or None when its every member ends properly."""
    if path.suffix != ".gz":
        return None
    import gzip
    import zlib

    try:
        with gzip.open(path, "rb") as g:
            while g.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error) as exc:
        return str(exc)
    return None


def _host(url: str) -> str | None:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname
    return host.removeprefix("www.") if host else None
