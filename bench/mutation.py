"""Mutation score of the suite over the reference server's protocol code (cosmic-ray).

    python bench/mutation.py --sample 30 --seed 1     # a random sample of mutants (CPU-heavy: ~10-60 s each)
    python bench/mutation.py --all                    # every mutant (hours)
    python bench/mutation.py --report                 # the stored results, scored by module

The suite talks to the reference server over HTTP in a child process, so the mutation is made on disk
(cosmic-ray mutates the file, runs the test command, restores it) in a copy of the checkout, never in
the checkout itself: the copy is first on PYTHONPATH for the suite and the server it starts. The test
command is the suite by area (`gws-conformance run --select ...`, hypothesis profile `dev`, `-x`):
a mutant is killed when the run is not conformant (any non-zero exit), or times out.

Results go to bench/mutation-results.json (one entry per mutant run; a later run replaces the entries
of the same mutant). Survivors found equivalent are listed in bench/mutation-equivalent.toml with the
reason; the score leaves them out: killed / (killed + non-equivalent survivors).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "mutation-results.json"
EQUIVALENT = ROOT / "bench" / "mutation-equivalent.toml"
SIMULATOR = "conformance/simulator"
# module -> the suite's selection that covers it (None: the whole suite)
GROUPS: dict[str, str | None] = {
    "bayeux_server.py": "NOTIFY or ORDER",
    "engine.py": None,
    "core.py": None,
    "chat.py": None,
    "operations.py": None,
    "customer_side.py": None,
}
TIMEOUT_S = 300.0


@dataclass
class Mutant:
    module: str
    operator: str
    occurrence: int
    line: int
    outcome: str  # killed | survived | incompetent | error
    seconds: float
    diff: str

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.module, self.operator, self.occurrence, self.line)


def copy_checkout(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True)
    for name in files.stdout.splitlines():
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for name in subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=ROOT,
                               check=True, capture_output=True, text=True).stdout.splitlines():
        if name.startswith(("conformance/", "suites/")) and (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)


def command(selection: str | None, reports: Path) -> str:
    cmd = [sys.executable, "-m", "conformance.cli", "run", "--hypothesis-profile", "dev",
           "--report-dir", str(reports)]
    if selection:
        cmd += ["--select", f"'{selection}'"]
    return " ".join(cmd)


def environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GWS_CONFORMANCE_", "PYTEST_"))}
    env["PYTHONPATH"] = str(work) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTEST_ADDOPTS"] = "-x"  # a killed mutant stops the run at its first failure
    return env


def write_config(work: Path, module: str, selection: str | None) -> Path:
    config = work / f"cr-{module}.toml"
    reports = work / "reports" / module
    test_command = command(selection, reports).replace("\\", "\\\\").replace('"', '\\"')
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{SIMULATOR}/{module}"\n'
        f"timeout = {TIMEOUT_S}\n"
        "excluded-modules = []\n"
        f'test-command = "{test_command}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n',
        encoding="utf-8",
    )
    return config


def cosmic_ray(work: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "cosmic_ray.cli", *args], cwd=work, env=environment(work),
                   check=True, capture_output=True, text=True)


def sample(
    work: Path, groups: dict[str, str | None], size: int | None, seed: int, only: list[str] | None = None
) -> dict[str, list]:
    """Init one session per module; keep a random sample of all their mutants (None: all), or the ones
    named `module:line:operator`."""
    from cosmic_ray.work_db import WorkDB, use_db

    items: dict[str, list] = {}
    for module, selection in groups.items():
        config = write_config(work, module, selection)
        db = work / f"cr-{module}.sqlite"
        cosmic_ray(work, "init", str(config), str(db))
        with use_db(str(db), WorkDB.Mode.open) as wdb:
            items[module] = list(wdb.work_items)
    every = [(m, item) for m, its in items.items() for item in its]
    print(f"{len(every)} mutants in {', '.join(f'{m}: {len(i)}' for m, i in items.items())}", flush=True)
    if only:
        def named(module: str, item: object) -> bool:
            spec = item.mutations[0]  # type: ignore[attr-defined]
            return f"{module}:{spec.start_pos[0]}:{spec.operator_name}" in only

        chosen = [(m, item) for m, item in every if named(m, item)]
    else:
        chosen = every if size is None else random.Random(seed).sample(every, min(size, len(every)))
    kept: dict[str, list] = {m: [] for m in groups}
    for module, item in chosen:
        kept[module].append(item)
    for module, its in kept.items():
        with use_db(str(work / f"cr-{module}.sqlite"), WorkDB.Mode.open) as wdb:
            wdb.clear()
            wdb.add_work_items(its)
    return kept


def baseline(work: Path, groups: dict[str, str | None]) -> None:
    for selection in dict.fromkeys(groups.values()):
        done = subprocess.run(command(selection, work / "reports" / "baseline"), shell=True, cwd=work,
                              env=environment(work), capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the unmutated suite ({selection or 'whole'}) is not conformant: "
                             f"{done.stdout[-2000:]}")


def execute(work: Path, groups: dict[str, str | None], kept: dict[str, list]) -> list[Mutant]:
    from cosmic_ray.work_db import WorkDB, use_db

    found: list[Mutant] = []
    for module, its in kept.items():
        if not its:
            continue
        started = time.monotonic()
        cosmic_ray(work, "exec", str(work / f"cr-{module}.toml"), str(work / f"cr-{module}.sqlite"))
        per = (time.monotonic() - started) / len(its)
        with use_db(str(work / f"cr-{module}.sqlite"), WorkDB.Mode.open) as wdb:
            for item, result in wdb.completed_work_items:
                spec = item.mutations[0]
                outcome = str(result.test_outcome.value) if result.test_outcome else "error"
                found.append(Mutant(module, spec.operator_name, spec.occurrence, spec.start_pos[0], outcome,
                                    round(per, 1), (result.diff or "")[-1200:]))
        print(f"{module}: {len(its)} mutants in {time.monotonic() - started:.0f} s", flush=True)
    return found


def load() -> list[Mutant]:
    if not RESULTS.exists():
        return []
    return [Mutant(**m) for m in json.loads(RESULTS.read_text(encoding="utf-8"))]


def store(new: list[Mutant]) -> list[Mutant]:
    merged = {m.key: m for m in load()}
    merged.update({m.key: m for m in new})
    result = sorted(merged.values(), key=lambda m: m.key)
    RESULTS.write_text(json.dumps([asdict(m) for m in result], indent=1) + "\n", encoding="utf-8")
    return result


def equivalent() -> dict[tuple[str, str, int, int], str]:
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))
    return {(e["module"], e["operator"], int(e["occurrence"]), int(e["line"])): e["reason"]
            for e in data.get("equivalent", [])}


def report(mutants: list[Mutant]) -> None:
    same = equivalent()
    print(f"{'module':<20}{'run':>6}{'killed':>8}{'survived':>10}{'equiv.':>8}{'incomp.':>9}{'score':>8}")
    for module in sorted({m.module for m in mutants}):
        mine = [m for m in mutants if m.module == module]
        killed = sum(m.outcome == "killed" for m in mine)
        eq = sum(m.outcome == "survived" and m.key in same for m in mine)
        survived = sum(m.outcome == "survived" for m in mine) - eq
        other = len(mine) - killed - survived - eq
        score = f"{100 * killed / (killed + survived):.0f}%" if killed + survived else "-"
        print(f"{module:<20}{len(mine):>6}{killed:>8}{survived:>10}{eq:>8}{other:>9}{score:>8}")
    killed = sum(m.outcome == "killed" for m in mutants)
    survived = sum(m.outcome == "survived" and m.key not in same for m in mutants)
    if killed + survived:
        score = 100 * killed / (killed + survived)
        print(f"{'all':<20}{len(mutants):>6}{killed:>8}{survived:>10}   score {score:.0f}% (of this sample)")
    for m in mutants:
        if m.outcome == "survived" and m.key not in same:
            print(f"\nSURVIVED {m.module}:{m.line} {m.operator} #{m.occurrence}\n{m.diff}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample", type=int, default=30, help="how many mutants, drawn at random")
    parser.add_argument("--all", action="store_true", help="every mutant")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--modules", nargs="*", choices=sorted(GROUPS), help="default: all of them")
    parser.add_argument("--mutant", action="append", metavar="MODULE:LINE:OPERATOR",
                        help="run these mutants (e.g. a survivor again after a new check)")
    parser.add_argument("--report", action="store_true", help="only print the stored results")
    args = parser.parse_args()
    if args.report:
        report(load())
        return
    modules = args.modules or sorted({m.split(":")[0] for m in args.mutant or []}) or list(GROUPS)
    groups = {m: GROUPS[m] for m in modules}
    with tempfile.TemporaryDirectory(prefix="gws-mutation-") as tmp:
        work = Path(tmp)
        copy_checkout(work)
        started = time.monotonic()
        baseline(work, groups)
        print(f"baseline conformant in {time.monotonic() - started:.0f} s", flush=True)
        kept = sample(work, groups, None if args.all else args.sample, args.seed, args.mutant)
        found = execute(work, groups, kept)
        print(f"{len(found)} mutants run in {time.monotonic() - started:.0f} s", flush=True)
    report(store(found))


if __name__ == "__main__":
    main()
