"""Mutation score of the suite over the reference server's protocol code (cosmic-ray's operators).

    python bench/mutation.py --all --workers 2          # every mutant (see bench/README.md for the cost)
    python bench/mutation.py --sample 60 --seed 1       # a random sample
    python bench/mutation.py --mutant core.py:196:core/ReplaceAndWithOr   # named mutants again
    python bench/mutation.py --report                   # the stored results, scored by module

The suite talks to the reference server over HTTP in a child process, so each mutant is written on disk
into a copy of the checkout (one copy per worker, first on PYTHONPATH for the suite and the server it
starts), never into the checkout itself. Cost is kept down three ways:
- mutants that cannot change the clean server's behaviour are set aside by rule, not run: inside an
  annotation (never evaluated: `from __future__ import annotations`), or fault-only (inside a branch
  taken only when a seeded fault is switched on, or and-ed with such a fault's flag);
- bench/mutation_map.py runs the suite once under coverage and maps every line of the server to the
  tests that execute it: a mutant runs only those tests (with -x, `dev` hypothesis profile, seed 0,
  --strict), and a mutant on a line no test executes is `not-covered` without running (it survives);
- workers run mutants in parallel, in a random order (a run stopped by --budget is a random sample).
A mutant is killed when its run is not conformant (any non-zero exit) or exceeds its timeout.

Results: bench/mutation-results.json, written after every mutant (with the commit it was made on; a
later run of the same mutant replaces it; --resume runs only the mutants not judged yet). A mutant is
known by its module, operator and the line it changes (text before and after), not by its line number,
so results and triage survive edits elsewhere in the module. Survivors found equivalent are listed in
bench/mutation-equivalent.toml with the reason; the score is killed / (killed + other survivors, the
not-covered included).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.mutation_map import suite_args  # noqa: E402

RESULTS = ROOT / "bench" / "mutation-results.json"
EQUIVALENT = ROOT / "bench" / "mutation-equivalent.toml"
SIMULATOR = "conformance/simulator"
MODULES = ("bayeux_server.py", "engine.py", "core.py", "chat.py", "operations.py", "customer_side.py")
NOT_RUN = ("annotation", "fault-only", "not-covered", "incompetent")
TIMEOUT_FACTOR = "1.5"  # the suite's own deadlines, stretched a little for two workers on two cores


@dataclass(frozen=True)
class Mutant:
    module: str
    operator: str
    occurrence: int
    line: int
    outcome: str = ""  # killed | timeout | survived | annotation | fault-only | not-covered | incompetent
    seconds: float = 0.0
    tests: int = 0  # how many tests its run selected
    killed_by: str = ""  # the requirements its run failed
    diff: str = ""
    commit: str = ""
    twin: int = 0  # how many earlier mutants of the module make the same change (a repeated line)

    @property
    def change(self) -> tuple[str, str]:
        """The changed line, before and after (stripped)."""
        lines = [line for line in self.diff.splitlines() if not line.startswith(("---", "+++"))]
        removed = " ".join(line[1:].strip() for line in lines if line.startswith("-"))
        added = " ".join(line[1:].strip() for line in lines if line.startswith("+"))
        return removed, added

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.module, self.operator, *self.change, self.twin)

    @property
    def name(self) -> str:
        return f"{self.module}:{self.line}:{self.operator}"


# --- enumerating mutants and setting aside those that cannot matter on the clean server --------------

def enumerate_mutants(source_path: Path) -> Iterator[tuple[Mutant, object]]:
    """Every mutant cosmic-ray's argument-free operators make of the module, with its operator."""
    import cosmic_ray.plugins
    from cosmic_ray.ast import ast_nodes, get_ast_from_path

    module_ast = get_ast_from_path(source_path)
    nodes = list(ast_nodes(module_ast))
    for name in cosmic_ray.plugins.operator_names():
        kind = cosmic_ray.plugins.get_operator(name)
        if kind.arguments():
            continue
        operator = kind()
        positions = [start for node in nodes for start, _ in operator.mutation_positions(node)]
        for occurrence, (line, col) in enumerate(positions):
            yield Mutant(source_path.name, name, occurrence, line), (operator, col)


Span = tuple[int, int, int, int]


def _span(node: ast.AST) -> Span:
    return (node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0)


def _inside(span: Span, line: int, col: int) -> bool:
    return (span[0], span[1]) <= (line, col) < (span[2], span[3])


_FAULT_ALIASES: set[str] = set()  # local names the module gives its faults (`f = self.faults`)
_FLAG_ALIASES: set[str] = set()  # local names holding a fault's flag (`leak = "fault" in self.faults`)


def _is_faults(node: ast.AST) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return name.lstrip("_") == "faults" or (isinstance(node, ast.Name) and name in _FAULT_ALIASES)


def _is_fault_flag(node: ast.AST) -> bool:
    """`"fault-name" in self.faults` (or `._faults`, or `faults`), `self.faults & {...}`, or a local
    holding one (`leak = "fault" in self.faults`)."""
    if isinstance(node, ast.Name) and node.id in _FLAG_ALIASES:
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
        return _is_faults(node.left)
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.In)):
        return False
    if not (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
        return False
    return _is_faults(node.comparators[0])


def _called_only_from(spans: list[Span], tree: ast.Module) -> list[Span]:
    """The bodies of the module's private functions (`_name`) that are called only from these spans, and
    so on from theirs: code only a seeded fault runs."""
    functions = {node.name: node for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("_")
                 and not node.name.startswith("__")}
    calls: dict[str, list[ast.Call]] = {name: [] for name in functions}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in calls:
                calls[name].append(node)
    found: list[Span] = []
    changed = True
    while changed:
        changed = False
        for name, sites in calls.items():
            if name in functions and sites and all(
                any(_inside(s, c.lineno, c.col_offset) for s in spans + found) for c in sites
            ):
                found.append(_span(functions.pop(name)))
                changed = True
    return found


def _guarded_by_fault(test: ast.AST) -> bool:
    return _is_fault_flag(test) or (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And)
                                    and any(_is_fault_flag(v) for v in test.values))


def set_aside_spans(source: str) -> dict[str, list[Span]]:
    """Spans of the source where a mutant is set aside: annotations, and fault-only code."""
    spans: dict[str, list[Span]] = {"annotation": [], "fault-only": []}
    tree = ast.parse(source)
    _FAULT_ALIASES.clear()
    assigned = [node for node in ast.walk(tree) if isinstance(node, ast.Assign) and _is_faults(node.value)]
    _FAULT_ALIASES.update(t.id for node in assigned for t in node.targets if isinstance(t, ast.Name))
    _FLAG_ALIASES.clear()
    flags = [node for node in ast.walk(tree) if isinstance(node, ast.Assign) and _is_fault_flag(node.value)]
    _FLAG_ALIASES.update(t.id for node in flags for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            spans["annotation"].append(_span(node.annotation))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            spans["annotation"].append(_span(node.returns))
        elif isinstance(node, ast.AnnAssign):
            spans["annotation"].append(_span(node.annotation))
        if isinstance(node, ast.If) and _guarded_by_fault(node.test):
            spans["fault-only"] += [_span(statement) for statement in node.body]
        elif isinstance(node, ast.IfExp) and _guarded_by_fault(node.test):
            spans["fault-only"].append(_span(node.body))
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and _guarded_by_fault(node):
            spans["fault-only"] += [_span(v) for v in node.values if not _is_fault_flag(v)]
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and all(
                map(_guarded_by_fault, node.values)):
            # false on the clean server whatever joins them: the `or`s between the values
            spans["fault-only"] += [(a.end_lineno or a.lineno, a.end_col_offset or 0, b.lineno, b.col_offset)
                                    for a, b in zip(node.values, node.values[1:], strict=False)]
    spans["fault-only"] += _called_only_from(spans["fault-only"], tree)
    return spans


def statement_lines(tree: ast.Module, line: int) -> range:
    """The lines whose tests a mutant of `line` runs: the innermost statement holding it (a compound
    one's header only: coverage records a multi-line statement on some of its lines, not always the
    mutated one); inside a coroutine, all of the coroutine's lines (coverage misses some lines run after
    an `await` resumes in the server's event loop thread)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef) and node.lineno <= line <= (node.end_lineno or node.lineno):
            return range(node.lineno, (node.end_lineno or node.lineno) + 1)
    best: ast.stmt | None = None
    for node in ast.walk(tree):
        holds = isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno)
        if holds and (best is None or (node.lineno >= best.lineno
                                       and (node.end_lineno or 0) <= (best.end_lineno or 0))):
            best = node  # type: ignore[assignment]
    if best is None:
        return range(line, line + 1)
    body = getattr(best, "body", None)
    end = body[0].lineno - 1 if isinstance(body, list) and body and isinstance(body[0], ast.stmt) else (
        best.end_lineno or best.lineno)
    return range(best.lineno, max(end, best.lineno) + 1)


# --- running --------------------------------------------------------------------------------------

def copy_checkout(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True)
    for name in files.stdout.splitlines():
        if name.startswith(("conformance/", "suites/", "bench/")) or "/" not in name:
            src = ROOT / name
            if src.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)


def environment(copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GWS_CONFORMANCE_", "PYTEST_"))}
    env["PYTHONPATH"] = str(copy) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def check_copy_is_used(copy: Path) -> None:
    probe = "import conformance.simulator.core as m; print(m.__file__)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=copy, env=environment(copy), check=True,
                           capture_output=True, text=True)
    if not Path(where.stdout.strip()).is_relative_to(copy):
        raise SystemExit(f"the copy is not the one imported ({where.stdout.strip()}): mutants would not run")


def coverage_map(copy: Path) -> dict:
    out = copy / "mutation-map.json"
    started = time.monotonic()
    subprocess.run([sys.executable, "bench/mutation_map.py", str(out)], cwd=copy, env=environment(copy),
                   check=True, capture_output=True, text=True)
    found = json.loads(out.read_text(encoding="utf-8"))
    if not found["conformant"]:
        raise SystemExit("the unmutated suite is not conformant: no mutant can be judged")
    print(f"coverage map: {len(found['order'])} tests in {time.monotonic() - started:.0f} s", flush=True)
    return found


def failed_requirements(reports: Path) -> str:
    """The requirements the run's summary.json says failed, warned, errored or were blocked."""
    try:
        summary = json.loads((reports / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no summary.json"
    found = [f"{rid} {r['outcome']}" for rid, r in summary["requirements"].items()
             if r["outcome"] not in ("passed", "untested")]
    return ", ".join(found) or summary["verdict"]


class Runner:
    """Runs mutants in worker copies and stores each result as it comes."""

    def __init__(self, copies: list[Path], found: dict, commit: str) -> None:
        self.free: Queue[Path] = Queue()
        for copy in copies:
            self.free.put(copy)
        self.order: list[str] = found["order"]
        self.seconds: dict[str, float] = found["seconds"]
        self.lines: dict[str, dict[str, list[int]]] = found["lines"]
        self.commit = commit
        self.lock = threading.Lock()
        self.done: list[Mutant] = []

    def tests_for(self, mutant: Mutant, tree: ast.Module) -> list[str]:
        """The tests that execute the mutated statement, the quickest first (a killed mutant's run stops
        at its first failure)."""
        per_line = self.lines.get(mutant.module, {})
        lines = statement_lines(tree, mutant.line)
        tests = {self.order[i] for line in lines for i in per_line.get(str(line), ())}
        return sorted(tests, key=lambda t: (self.seconds.get(t, 0.0), self.order.index(t)))

    def run(self, mutant: Mutant, mutated: str, tests: list[str]) -> Mutant:
        copy = self.free.get()
        path = copy / SIMULATOR / mutant.module
        original = path.read_text(encoding="utf-8")
        timeout = 60 + 3 * sum(self.seconds.get(t, 5.0) for t in tests)
        started = time.monotonic()
        try:
            path.write_text(mutated, encoding="utf-8")
            (copy / "reports" / "summary.json").unlink(missing_ok=True)
            args = [sys.executable, "-m", "pytest", *tests, *suite_args(copy, copy / "reports"), "-x",
                    "--timeout-factor", TIMEOUT_FACTOR]
            # its own process group: on a timeout the embedded server it started goes too (a server
            # spinning in a mutated loop would otherwise hold the pipes open)
            with subprocess.Popen(args, cwd=copy, env=environment(copy), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True) as done:
                try:
                    returncode = done.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(done.pid, signal.SIGKILL)
                    done.wait()
                    raise
            outcome = "survived" if returncode == 0 else "killed"
            by = failed_requirements(copy / "reports") if returncode else ""
        except subprocess.TimeoutExpired:
            outcome, by = "timeout", f"over {timeout:.0f} s"
        finally:
            path.write_text(original, encoding="utf-8")
            self.free.put(copy)
        return replace(mutant, outcome=outcome, seconds=round(time.monotonic() - started, 1),
                       tests=len(tests), killed_by=by)

    def record(self, mutant: Mutant) -> None:
        with self.lock:
            self.done.append(mutant)
            if mutant.outcome not in NOT_RUN:
                store(self.done)
                print(f"[{len(self.done)}] {mutant.outcome:<9} {mutant.name} #{mutant.occurrence} "
                      f"({mutant.tests} tests, {mutant.seconds} s) {mutant.killed_by}", flush=True)


def mutants_of(copy: Path, modules: list[str]) -> list[tuple[Mutant, str | None]]:
    """Every mutant of the modules with its mutated source (None: cosmic-ray could not make it), each
    already judged when it is set aside by rule."""
    from cosmic_ray.mutating import mutate_code

    made: list[tuple[Mutant, str | None]] = []
    for module in modules:
        path = copy / SIMULATOR / module
        source = path.read_text(encoding="utf-8")
        spans = set_aside_spans(source)
        seen: dict[tuple[str, ...], int] = {}
        for mutant, (operator, col) in enumerate_mutants(path):
            kind = next((k for k, ss in spans.items() if any(_inside(s, mutant.line, col) for s in ss)), "")
            mutated = mutate_code(source, operator, mutant.occurrence)
            diff = "".join(difflib.unified_diff(source.splitlines(True), (mutated or source).splitlines(True),
                                                f"a/{SIMULATOR}/{module}", f"b/{SIMULATOR}/{module}", n=2))
            made_one = replace(mutant, outcome=kind, diff=diff[-1200:])
            same = (module, mutant.operator, *made_one.change)
            seen[same] = seen.get(same, -1) + 1
            made.append((replace(made_one, twin=seen[same]), mutated))
    return made


def execute(modules: list[str], size: int | None, seed: int, named: list[str] | None, workers: int,
            budget_s: float | None, resume: bool, keys: set[tuple] | None = None) -> list[Mutant]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="gws-mutation-") as tmp:
        copies = [Path(tmp) / f"w{i}" for i in range(workers)]
        for copy in copies:
            copy_checkout(copy)
        check_copy_is_used(copies[0])
        started = time.monotonic()
        runner = Runner(copies, coverage_map(copies[0]), commit)
        made = mutants_of(copies[0], modules)
        made = [(replace(m, commit=commit), code) for m, code in made]
        if size is None and not named and keys is None and set(modules) == set(MODULES):
            prune({m.key for m, _ in made})  # a whole run: results of mutants the code no longer has go
        if named:
            made = [(m, code) for m, code in made if m.name in named]
        if keys is not None:
            made = [(m, code) for m, code in made if m.key in keys]
        if resume:
            judged = {m.key for m in load() if m.outcome not in NOT_RUN}
            made = [(m, code) for m, code in made if m.key not in judged]
        random.Random(seed).shuffle(made)
        if size is not None:
            made = made[:size]
        trees = {m: ast.parse((copies[0] / SIMULATOR / m).read_text(encoding="utf-8")) for m in modules}
        to_run: list[tuple[Mutant, str, list[str]]] = []
        for mutant, mutated in made:
            tests = runner.tests_for(mutant, trees[mutant.module])
            if mutant.outcome:
                runner.record(mutant)
            elif mutated is None:
                runner.record(replace(mutant, outcome="incompetent"))
            elif not tests:
                runner.record(replace(mutant, outcome="not-covered"))
            else:
                to_run.append((mutant, mutated, tests))
        store(runner.done)
        print(f"{len(made)} mutants: {len(to_run)} to run, {len(made) - len(to_run)} set aside or not "
              "covered", flush=True)

        def one(item: tuple[Mutant, str, list[str]]) -> None:
            if budget_s is not None and time.monotonic() - started > budget_s:
                return
            runner.record(runner.run(*item))

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, to_run))
        print(f"{len(runner.done)} mutants judged in {time.monotonic() - started:.0f} s", flush=True)
        return runner.done


# --- results ---------------------------------------------------------------------------------------

def load() -> list[Mutant]:
    if not RESULTS.exists():
        return []
    data = json.loads(RESULTS.read_text(encoding="utf-8"))
    if not isinstance(data, dict):  # results of an earlier format: none
        return []
    fields = set(Mutant.__dataclass_fields__)
    commit = data.get("commit", "")  # results of a single run carry it once
    return [Mutant(**{k: v for k, v in m.items() if k in fields} | {"commit": m.get("commit") or commit})
            for m in data["mutants"]]


def store(new: list[Mutant]) -> list[Mutant]:
    """Merge into the stored results: a later result of the same mutant replaces the earlier one."""
    merged = {m.key: m for m in load()}
    merged.update({m.key: m for m in new})
    result = sorted(merged.values(), key=lambda m: (m.module, m.line, m.operator, m.occurrence))
    text = json.dumps({"mutants": [asdict(m) for m in result]}, indent=1)
    RESULTS.write_text(text + "\n", encoding="utf-8")
    return result


def prune(current: set[tuple[str, str, str, str, int]]) -> None:
    kept = [m for m in load() if m.key in current]
    text = json.dumps({"mutants": [asdict(m) for m in kept]}, indent=1)
    RESULTS.write_text(text + "\n", encoding="utf-8")


def equivalent() -> dict[tuple[str, str, str, str], str]:
    """(module, operator, line before, line after) -> reason, for the survivors triaged as equivalent."""
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))
    return {(e["module"], e["operator"], e["before"], e["after"]): e["reason"]
            for e in data.get("equivalent", [])}


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def add_equivalent(name: str, reason: str) -> None:
    """Append a stored survivor (MODULE:LINE:OPERATOR, or with #OCCURRENCE) to the equivalent list."""
    found = [m for m in load() if m.outcome in ("survived", "not-covered")
             and name in (m.name, f"{m.name}#{m.occurrence}")]
    if len(found) != 1:
        raise SystemExit(f"{name}: {len(found)} stored survivors have this name (add #OCCURRENCE)")
    mutant = found[0]
    before, after = mutant.change
    entry = (f"\n[[equivalent]]\nmodule = {_toml_string(mutant.module)}\n"
             f"operator = {_toml_string(mutant.operator)}\nline = {mutant.line}  # when triaged\n"
             f"before = {_toml_string(before)}\nafter = {_toml_string(after)}\n"
             f"reason = {_toml_string(reason)}\n")
    with EQUIVALENT.open("a", encoding="utf-8") as out:
        out.write(entry)
    equivalent()  # still parses


def report(mutants: list[Mutant], show: bool = True) -> None:
    same = equivalent()

    def triaged(m: Mutant) -> bool:
        return m.outcome in ("survived", "not-covered") and (m.module, m.operator, *m.change) in same

    columns = ("killed", "survived", "not-covered", "equivalent", "annotation", "fault-only", "incompetent")
    header = "".join(f"{c:>13}" for c in columns)
    commits = ", ".join(sorted({m.commit for m in mutants if m.outcome not in NOT_RUN}))
    print(f"made on commit(s) {commits}\n{'module':<18}{'all':>6}{header}{'score':>8}")
    rows = [*sorted({m.module for m in mutants}), "all"]
    for module in rows:
        mine = [m for m in mutants if module in ("all", m.module)]
        count = {c: 0 for c in columns}
        for m in mine:
            kind = "equivalent" if triaged(m) else "killed" if m.outcome == "timeout" else m.outcome
            count[kind] += 1
        alive = count["survived"] + count["not-covered"]
        judged = count["killed"] + alive
        score = f"{100 * count['killed'] / judged:.1f}%" if judged else "-"
        print(f"{module:<18}{len(mine):>6}" + "".join(f"{count[c]:>13}" for c in columns) + f"{score:>8}")
    kinds: dict[str, int] = {}
    for m in mutants:
        if triaged(m):
            kind = same[(m.module, m.operator, *m.change)].split(":")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
    print("equivalent by kind of reason: " + "; ".join(f"{k} {n}" for k, n in sorted(kinds.items(),
                                                                                   key=lambda x: -x[1])))
    if show:
        for m in mutants:
            if m.outcome in ("survived", "not-covered") and not triaged(m):
                print(f"\n{m.outcome.upper()} {m.name} #{m.occurrence} ({m.tests} tests)\n{m.diff}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, help="how many mutants, drawn at random")
    parser.add_argument("--all", action="store_true", help="every mutant")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=float, metavar="MINUTES", help="start no mutant after this long")
    parser.add_argument("--modules", nargs="*", choices=MODULES, help="default: all of them")
    parser.add_argument("--mutant", action="append", metavar="MODULE:LINE:OPERATOR",
                        help="run these mutants (e.g. a survivor again after a new check)")
    parser.add_argument("--resume", action="store_true", help="skip the mutants already judged")
    parser.add_argument("--survivors", action="store_true",
                        help="run again the stored survivors not triaged (after new checks)")
    parser.add_argument("--report", action="store_true", help="only print the stored results")
    parser.add_argument("--quiet", action="store_true", help="with --report: the table only")
    parser.add_argument("--equivalent", metavar="MODULE:LINE:OPERATOR", help="triage a stored survivor as "
                        "equivalent (with --reason)")
    parser.add_argument("--reason", help="why the --equivalent mutant cannot be told from the server")
    args = parser.parse_args()
    if args.equivalent:
        if not args.reason:
            parser.error("--equivalent needs --reason")
        add_equivalent(args.equivalent, args.reason)
        return
    if args.report:
        report(load(), show=not args.quiet)
        return
    keys = None
    if args.survivors:
        same = equivalent()
        alive = [m for m in load() if m.outcome in ("survived", "not-covered")
                 and (m.module, m.operator, *m.change) not in same]
        keys, args.all = {m.key for m in alive}, True
        args.modules = args.modules or sorted({m.module for m in alive})
    if not (args.all or args.sample or args.mutant):
        parser.error("say --all, --sample N, --mutant NAME or --survivors")
    modules = list(args.modules or sorted({m.split(":")[0] for m in args.mutant or []}) or MODULES)
    done = execute(modules, None if args.all or args.mutant else args.sample, args.seed, args.mutant,
                   args.workers, None if args.budget is None else args.budget * 60, args.resume, keys)
    report(load(), show=False)
    print(f"this run: {len(done)} mutants")


if __name__ == "__main__":
    main()
