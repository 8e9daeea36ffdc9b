"""An operator's mistakes and a full disk give one `error:` line naming what to check and a
non-zero exit code (docs/cli.md), never a traceback. Each case is real: the CLI runs in a
subprocess against a closed port, a database and a role that do not exist on the local
PostgreSQL, a host name that cannot resolve, an address that does not answer, and a disk
that fills up (a tiny tmpfs, mounted for the test)."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from tests.conftest import PG_URL

UNAVAILABLE = 5  # fimiscope.core.errors.Unavailable.exit_code
FIMISCOPE = [sys.executable, "-m", "fimiscope"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FIMISCOPE, *args], capture_output=True, text=True, timeout=timeout, check=False)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == UNAVAILABLE, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the socket is


def pg_url_with(*, user: str | None = None, database: str | None = None) -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set FIMISCOPE_TEST_DATABASE_URL (.ci/run does)")
    parts = urlsplit(PG_URL)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}@{netloc.rsplit('@', 1)[-1]}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}" if database else parts.path))


def test_closed_port() -> None:
    port = closed_port()
    line = one_error_line(run("--database-url", f"postgresql://postgres@127.0.0.1:{port}/test", "stats"))
    assert f"127.0.0.1:{port}" in line and "connection refused" in line and "--database-url" in line


def test_unknown_database() -> None:
    name = f"fimiscope_missing_{uuid.uuid4().hex[:8]}"
    line = one_error_line(run("--database-url", pg_url_with(database=name), "stats"))
    assert f"no database {name!r}" in line and "--database-url" in line


def test_unknown_role() -> None:
    role = f"nobody_{uuid.uuid4().hex[:8]}"
    line = one_error_line(run("--database-url", pg_url_with(user=role), "signals", "list"))
    assert f"refused the user {role!r}" in line and "user name and password" in line


def test_host_that_does_not_resolve() -> None:
    # .invalid never resolves (RFC 6761)
    line = one_error_line(run("--database-url", "postgresql://postgres@db.fimiscope.invalid:5432/test", "stats"))
    assert "cannot find the database host 'db.fimiscope.invalid'" in line and "host name" in line


def test_host_that_does_not_answer() -> None:
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): routed nowhere, so the connection attempt fails or times out
    url = "postgresql://postgres@192.0.2.1:5432/test?connect_timeout=3"
    line = one_error_line(run("--database-url", url, "stats", timeout=60))
    assert "192.0.2.1:5432" in line and "check the host and port" in line


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run("--data-dir", str(blocker / "data"), "stats")
    assert done.returncode != 0 and done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert str(blocker / "data") in done.stderr and "Traceback" not in done.stderr


def _big_jsonl(path: Path, rows: int = 20000) -> Path:
    """About 13 MB of random words in short documents: more than the tiny disks below hold, in
    four import batches of 5,000 (the importer's batch), the first of which fits."""
    rnd = random.Random(7)
    with path.open("w") as f:
        for i in range(rows):
            text = " ".join(f"w{rnd.randrange(10**9)}" for _ in range(60))
            f.write(json.dumps({"id": f"d{i}", "url": f"https://example.org/{i}", "text": text}) + "\n")
    return path


def test_full_disk_under_sqlite(tmp_path: Path) -> None:
    """A 24 MB tmpfs in a private mount namespace (no root needed where user namespaces are
    allowed): the import fills it, fails with one line, and what was committed is kept."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs unshare(1) to mount a tiny tmpfs in a private namespace")
    probe = subprocess.run([unshare, "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are not allowed here: {probe.stderr.decode().strip()}")
    disk = tmp_path / "disk"
    disk.mkdir()
    data = _big_jsonl(tmp_path / "big.jsonl")
    py = " ".join(FIMISCOPE)
    script = (
        f"mount -t tmpfs -o size=24m tmpfs {disk} || exit 99; "
        f"{py} --data-dir {disk}/data import jsonl {data} > /dev/null; echo \"rc=$?\" >&2; "
        f"{py} --data-dir {disk}/data stats --format json"
    )
    done = subprocess.run([unshare, "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    if "rc=" not in done.stderr:
        pytest.skip(f"could not mount a tmpfs in a private namespace: {done.stderr.strip()}")
    error, rc = done.stderr.strip().splitlines()
    assert rc == f"rc={UNAVAILABLE}", done.stderr
    assert error.startswith("error: the database file ") and "the disk is full" in error and "Free space" in error
    assert json.loads(done.stdout)["documents"] > 0  # the batches committed before the disk filled are kept


def test_full_disk_under_postgresql(tmp_path: Path) -> None:
    """The store's tables in a tablespace on a 48 MB tmpfs: PostgreSQL runs out of disk for real."""
    url = pg_url_with()
    host = urlsplit(url).hostname or ""
    if os.geteuid() != 0 or host not in {"127.0.0.1", "localhost", "::1"} or shutil.which("mount") is None:
        pytest.skip("needs root and the PostgreSQL server on this machine, to mount a tiny tablespace for it")
    import pwd

    import sqlalchemy as sa

    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres system user to own the tablespace folder")
    disk = Path(f"/tmp/fimiscope-full-{uuid.uuid4().hex[:8]}")
    disk.mkdir(mode=0o700)
    tag = uuid.uuid4().hex[:8]
    space, schema = f"t_full_{tag}", f"t_full_{tag}"
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m,mode=700", "tmpfs", str(disk)],
                      capture_output=True, check=False).returncode != 0:
        disk.rmdir()
        pytest.skip("could not mount a tmpfs")
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    try:
        os.chown(disk, owner.pw_uid, owner.pw_gid)
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE TABLESPACE {space} LOCATION '{disk}'")
            c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in url else "?"
        full = f"{url}{sep}options=-csearch_path%3D{schema}%20-cdefault_tablespace%3D{space}"
        line = one_error_line(run("--database-url", full, "import", "jsonl", str(_big_jsonl(tmp_path / "big.jsonl")),
                                  timeout=300))
        assert "out of disk space" in line and "No space left on device" in line and "free space there" in line
        stats = run("--database-url", full, "stats", "--format", "json")
        assert stats.returncode == 0 and json.loads(stats.stdout)["documents"] > 0  # committed batches are kept
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            c.exec_driver_sql(f"DROP TABLESPACE IF EXISTS {space}")
        admin.dispose()
        subprocess.run(["umount", str(disk)], check=False)
        disk.rmdir()
