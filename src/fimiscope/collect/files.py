"""File-based connectors: generic JSONL/CSV, social-post dumps, and local folders of pages.

Each remembers what it has read (``ctx.state``) so an unchanged file is skipped on the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fimiscope.collect.base import CollectContext, Connector, ItemError, RawPage, connector
from fimiscope.collect.generic import Rejection, open_input, read_csv, read_jsonl
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document, Source

_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
_TEXT_SUFFIXES = {".txt", ".md"}
MAX_FILE_BYTES = 20 * 1024 * 1024  # one page or text file; larger ones are skipped with a reason


def location_path(source: Source) -> Path:
    if not source.location:
        raise InvalidInput(f"source {source.name!r} has no --location (a file or folder path)")
    path = Path(source.location.removeprefix("file://")).expanduser()
    if not path.exists():
        raise InvalidInput(f"{path} does not exist")
    return path


def _fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _unchanged(path: Path, ctx: CollectContext) -> bool:
    """True when the file is the one read last time (same size+mtime, or same content)."""
    seen: dict[str, Any] = ctx.state.setdefault("files", {})
    fp = _fingerprint(path)
    old = seen.get(str(path))
    if old and old.get("fingerprint") == fp:
        return True
    digest = _digest(path)
    if old and old.get("digest") == digest:
        old["fingerprint"] = fp
        return True
    seen[str(path)] = {"fingerprint": fp, "digest": digest}
    return False


def _rejection(path: Path, rej: Rejection) -> ItemError:
    field = f", field {rej.field!r}" if rej.field else ""
    return ItemError(where=f"{path.name}:{rej.line}", reason=f"{rej.reason}{field}")


class _RowFile(Connector):
    def rows(self, stream: Any, source: Source) -> Iterator[Document | Rejection]:
        raise NotImplementedError

    def check(self, doc: Document) -> str | None:
        return None

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Document | ItemError]:
        path = location_path(source)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if _unchanged(file, ctx):
                ctx.log(f"{file.name}: unchanged since the last run")
                continue
            with open_input(file) as stream:
                for item in self.rows(stream, source):
                    if isinstance(item, Rejection):
                        yield _rejection(file, item)
                        continue
                    problem = self.check(item)
                    if problem:
                        yield ItemError(where=f"{file.name}:{item.external_id or item.url}", reason=problem)
                        continue
                    yield item


@connector
class JsonlConnector(_RowFile):
    kind = "jsonl"
    description = "a JSONL file (or folder of them) in the generic document schema"

    def rows(self, stream: Any, source: Source) -> Iterator[Document | Rejection]:
        return read_jsonl(stream)


@connector
class CsvConnector(_RowFile):
    kind = "csv"
    description = "a CSV file with a column mapping in the source's metadata ('map': {field: column})"

    def rows(self, stream: Any, source: Source) -> Iterator[Document | Rejection]:
        mapping = source.metadata.get("map") or {}
        if not isinstance(mapping, dict):
            raise InvalidInput("source metadata 'map' must be an object {field: column}")
        return read_csv(stream, mapping=mapping, default_source=source.name,
                        delimiter=str(source.metadata.get("delimiter", ",")))


@connector
class SocialConnector(_RowFile):
    kind = "social"
    description = "a social-post dump in the generic JSONL schema, accounts as platform:account"

    def rows(self, stream: Any, source: Source) -> Iterator[Document | Rejection]:
        return read_jsonl(stream)

    def check(self, doc: Document) -> str | None:
        name = doc.source or ""
        platform, sep, account = name.partition(":")
        if not sep or not platform or not account:
            return f"source {name!r} is not an account (platform:account)"
        doc.platform = platform.lower()
        return None


@connector
class FolderConnector(Connector):
    kind = "folder"
    description = "a local folder of saved HTML pages and text files"

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Document | RawPage | ItemError]:
        root = location_path(source)
        pattern = str(source.metadata.get("include", "*"))
        for path in sorted(root.rglob(pattern) if root.is_dir() else [root]):
            suffix = path.suffix.lower()
            if not path.is_file() or suffix not in _HTML_SUFFIXES | _TEXT_SUFFIXES:
                continue
            if path.stat().st_size > MAX_FILE_BYTES:
                yield ItemError(where=str(path), reason=f"larger than {MAX_FILE_BYTES // 2**20} MB; skipped")
                continue
            if _unchanged(path, ctx):
                continue
            body = path.read_bytes()
            if b"\x00" in body[:4096]:
                yield ItemError(where=str(path), reason="binary content, not a page or text")
                continue
            if suffix in _HTML_SUFFIXES:
                yield RawPage(url=path.resolve().as_uri(), body=body, source=source.name)
                continue
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield ItemError(where=str(path), reason=f"invalid UTF-8 at byte {exc.start}")
                continue
            if not text.strip():
                yield ItemError(where=str(path), reason="empty file")
                continue
            yield Document(text=text, url=path.resolve().as_uri(), source=source.name, title=path.stem, raw=body)
