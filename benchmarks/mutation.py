"""Mutation testing of the code that decides what a partner may see: do the tests notice a fault?

    pip install -e '.[test,mutation]'
    nice -n 10 python benchmarks/mutation.py [MODULE ...] [--sample N] [--max-children N] [--keep DIR]
                                             [--tests FILE,FILE] [--only NAME,NAME]

MODULE is one of the names in ``TARGETS`` (default: all of them). For each, the working tree
(tracked and new files) is copied to a scratch directory, a ``[tool.mutmut]`` section that
mutates only that module and runs only the tests relevant to it is written into the copy's
pyproject.toml, and ``mutmut run`` runs there (mutmut runs, per mutant, only the tests that
reach the mutated function). ``--sample N`` runs N mutants drawn with a fixed seed instead of
all of them, for modules too big for the time at hand. ``FUNCS`` narrows a module to the
functions that the check is about (e.g. the visibility filter of store/share.py).

Prints one row per module (mutants, killed, survived, timeouts, score = killed / (killed +
survived)), the surviving mutants by name (``mutmut show NAME`` in the scratch directory gives
the diff), and one JSON line. Results and how they were judged are in docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Target:
    path: str
    tests: list[str]
    funcs: list[str] = field(default_factory=list)  # fnmatch patterns over mutmut's function keys


_POLICY = ["tests/share/test_markings_policy.py"]
TARGETS = {
    "tlp": Target("src/fimiscope/cases/tlp.py", [*_POLICY, "tests/cases/test_tlp_defaults.py"]),
    "markings": Target("src/fimiscope/share/markings.py", [*_POLICY, "tests/share/test_partner_visibility.py"]),
    "share-filter": Target(
        "src/fimiscope/store/share.py",
        ["tests/share/test_taxii_protocol.py", "tests/share/test_partner_visibility.py",
         "tests/share/test_partner_writes.py", "tests/share/test_taxii.py"],
        ["*ShareStore*query*", "*ShareStore*owners*", "*ShareStore*put_objects*", "*ShareStore*partner_by_token*",
         "*ShareStore*status*", "*stix_version*", "*normalise_timestamp*"],
    ),
    "taxii-server": Target(
        "src/fimiscope/share/taxii_server.py",
        ["tests/share/test_taxii_protocol.py", "tests/share/test_partner_visibility.py",
         "tests/share/test_partner_writes.py", "tests/share/test_taxii.py"],
    ),
    # test_api_roles.py's route-by-route tests take minutes: its login tests only, per mutant
    "auth": Target("src/fimiscope/api/auth.py", [
        "tests/api/test_auth_rules.py", "tests/api/test_api_auth.py",
        "tests/api/test_api_roles.py::test_login_refuses_a_missing_csrf_cookie",
        "tests/api/test_api_roles.py::test_login_never_redirects_off_site",
    ]),
    "generic-rows": Target(
        "src/fimiscope/collect/generic.py",
        ["tests/collect/test_generic_rows.py"],
        ["*_opt_str*", "*document_from_mapping*", "*DuplicateTracker*", "*Rejection*", "*parse_mapping*"],
    ),
}

_LINE = re.compile(r"^\s*(\S+__mutmut_\d+):\s*(.+?)\s*$")


def copy_tree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    for name in files:
        if not name or not (name.startswith(("src/", "tests/")) or name == "pyproject.toml"):
            continue
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def configure(dest: Path, target: Target) -> None:
    tests = [t for t in target.tests if (dest / t.split("::")[0]).exists()]
    section = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {json.dumps([target.path])}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        'pytest_add_cli_args = ["-x", "-q", "-p", "no:cacheprovider"]\n'
        "use_git_change_detection = false\n"
    )
    with (dest / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write(section)


def mutmut(dest: Path, *args: str, timeout: float | None = None) -> str:
    exe = Path(sys.executable).with_name("mutmut")
    env = {k: v for k, v in os.environ.items() if k != "FIMISCOPE_TEST_DATABASE_URL"}  # SQLite: fast enough
    done = subprocess.run(
        [str(exe), *args], cwd=dest, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    return done.stdout + done.stderr


def results(dest: Path) -> dict[str, str]:
    out = {}
    for line in mutmut(dest, "results", "--all", "true").splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def wanted(name: str, target: Target) -> bool:
    key = name.rsplit("__mutmut_", 1)[0]
    return not target.funcs or any(fnmatch.fnmatchcase(key, p) for p in target.funcs)


def run_target(
    name: str, target: Target, workdir: Path, sample: int | None, children: int, only: set[str] | None = None
) -> dict[str, object]:
    dest = workdir / name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    copy_tree(dest)
    configure(dest, target)
    started = time.monotonic()
    # First pass: generate the mutants and map tests to functions, run nothing yet.
    log = mutmut(dest, "run", "--max-children", str(children), "nothing-matches-this*")
    names = sorted(n for n in results(dest) if wanted(n, target))
    if not names:
        raise SystemExit(f"{name}: no mutants generated\n{log[-3000:]}")
    chosen = sorted(random.Random(0).sample(names, sample)) if sample and sample < len(names) else names
    if only:
        chosen = [n for n in chosen if n in only]
    for i in range(0, len(chosen), 200):  # keep the command line short
        log = mutmut(dest, "run", "--max-children", str(children), *chosen[i : i + 200])
    status = {n: s for n, s in results(dest).items() if n in set(chosen)}
    counts: dict[str, int] = {}
    for s in status.values():
        counts[s] = counts.get(s, 0) + 1
    killed = counts.get("killed", 0) + counts.get("caught by type check", 0)
    survived = counts.get("survived", 0)
    return {
        "module": name,
        "path": target.path,
        "mutants": len(names),
        "run": len(chosen),
        "killed": killed,
        "survived": survived,
        "timeout": counts.get("timeout", 0),
        "other": {k: v for k, v in counts.items() if k not in ("killed", "survived", "timeout",
                                                               "caught by type check")},
        "score": round(killed / (killed + survived), 3) if killed + survived else None,
        "survivors": sorted(n for n, s in status.items() if s == "survived"),
        "seconds": round(time.monotonic() - started),
        "scratch": str(dest),
        "log_tail": log[-600:] if not status else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*", help=f"any of: {', '.join(TARGETS)} (default: all)")
    ap.add_argument("--sample", type=int, default=None, help="run this many mutants per module (fixed seed)")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--tests", default=None,
                    help="comma-separated test files instead of the module's own (e.g. to measure an older suite)")
    ap.add_argument("--only", default=None,
                    help="comma-separated mutant names: run just these (e.g. the survivors of an earlier run)")
    ap.add_argument("--keep", type=Path, default=None, help="scratch directory to keep (default: a temporary one)")
    args = ap.parse_args()
    chosen = args.modules or list(TARGETS)
    unknown = [m for m in chosen if m not in TARGETS]
    if unknown:
        ap.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="fimiscope-mutation-"))
    targets = {m: TARGETS[m] for m in chosen}
    if args.tests:
        targets = {m: Target(t.path, args.tests.split(","), t.funcs) for m, t in targets.items()}
    only = set(args.only.split(",")) if args.only else None
    rows = [run_target(m, t, workdir, args.sample, args.max_children, only) for m, t in targets.items()]
    print(f"{'module':<14} {'file':<38} {'mutants':>7} {'run':>5} {'killed':>6} {'survived':>8} {'timeout':>7} "
          f"{'score':>6} {'s':>5}")
    for r in rows:
        score = f"{r['score']:.1%}" if r["score"] is not None else "-"
        print(f"{r['module']:<14} {r['path']:<38} {r['mutants']:>7} {r['run']:>5} {r['killed']:>6} "
              f"{r['survived']:>8} {r['timeout']:>7} {score:>6} {r['seconds']:>5}")
    for r in rows:
        for s in r["survivors"]:  # type: ignore[attr-defined]
            print(f"  survived: {s}")
        if r["log_tail"]:
            print(f"  {r['module']}: no results; mutmut said: {r['log_tail']}")
    print(json.dumps({"mutation": [{k: v for k, v in r.items() if k != "log_tail"} for r in rows]}))


if __name__ == "__main__":
    main()
