"""The "benchmarks run" step of `make test` (tools/harness/bench.py): each benchmark fails
on its exit code and on a result file it did not write."""

import importlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"


def _bench():
    """tools/harness/bench.py (tools/ on sys.path, as tools/omnictl.py puts it)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return importlib.import_module("harness.bench")


class FakeOdoo:
    def env(self):
        return {"PATH": "/usr/bin"}


class FakeSession:
    """Runs nothing: each "benchmark" exits with the code given for it and writes the
    result files given for it."""

    def __init__(self, work, outcomes):
        self.work = work
        self.outcomes = outcomes
        self.runs = []

    def run(self, name, cmd, *, env, log=None):
        self.runs.append((name, cmd, env))
        rc, files = self.outcomes[name.removeprefix("bench-")]
        results = Path(env["OMNI_BENCH_RESULTS"])
        results.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            (results / file_name).write_text(text)
        return rc


def _all_written(bench):
    return {
        name: (0, {output: "{}" for output in outputs}) for name, _args, outputs in bench.SMOKE_RUNS
    }


def test_each_benchmark_is_a_script_of_bench_that_names_its_result_files():
    bench = _bench()
    sources = "\n".join(path.read_text() for path in (REPO / "bench").glob("*.py"))
    for _name, args, outputs in bench.SMOKE_RUNS:
        assert (REPO / "bench" / args[0]).is_file(), args[0]
        for output in outputs:
            # the file name itself, or the name of its --out/--output (without extension)
            assert output in sources or output.rsplit(".", 1)[0] in sources, output


def test_benchmarks_pass_when_they_exit_0_and_write_their_results(tmp_path):
    bench = _bench()
    session = FakeSession(tmp_path, _all_written(bench))
    results = bench.run_benchmarks(session, FakeOdoo())
    assert [(r.name, r.ok) for r in results] == [(n, True) for n, _a, _o in bench.SMOKE_RUNS]
    name, cmd, env = session.runs[0]
    assert cmd[1] == str(REPO / "bench" / "run_all.py") and cmd[2:] == ["--smoke"]
    # results in the run's directory, never in bench/results/
    assert env["OMNI_BENCH_RESULTS"] == str(tmp_path / "bench-results")


def test_an_exit_code_or_a_missing_or_broken_result_fails_that_benchmark(tmp_path):
    bench = _bench()
    outcomes = _all_written(bench)
    outcomes["charges"] = (1, {"charges.json": "{}"})  # a check of its own failed
    outcomes["bulk_charge"] = (0, {})  # exited 0 without writing its results
    outcomes["bulk_preview"] = (0, {"bulk_charge_preview.json": "{not json"})
    results = {r.name: r for r in bench.run_benchmarks(FakeSession(tmp_path, outcomes), FakeOdoo())}
    assert results["run_all"].ok and results["charges_parallel"].ok
    assert not results["charges"].ok and "exit code 1" in results["charges"].detail
    assert not results["bulk_charge"].ok and "no bulk_charge.json" in results["bulk_charge"].detail
    assert not results["bulk_preview"].ok
    assert "bulk_charge_preview.json (not JSON)" in results["bulk_preview"].detail
