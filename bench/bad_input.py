"""The bad-input run: how many generated cases each public function refuses, gets right, crashes on
or answers wrongly.

Runs ``tests/properties/test_bad_input.py`` (derandomised hypothesis, so every run draws the
same cases) in a subprocess with ``GENMETRICS_BAD_INPUT_REPORT`` set: the tests
write their tally as JSON. A crash or a wrong number still fails its test (and
ends that test's cases), so a non-zero pytest exit code is reported with the tally. A case ends in one of four ways:

- **refused**: a ValueError or TypeError whose message names an argument of the
  function (and says more than a few words);
- **right**: a number (array, result) equal to what the same data give when
  passed the right way;
- **crash**: any other exception, a message that names no argument, or valid
  input refused;
- **wrong**: a number for bad input, or a number that differs from the right way's.

Usage::

    python bench/bad_input.py [--slow] [--out bench/results]

Writes ``bad_input.md`` and ``bad_input.json`` to ``--out`` and prints the table.
The exit code is 1 when there is a crash or a wrong number.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTCOMES = ("refused", "right", "crash", "wrong")


def run(slow: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "tally.json")
        env = dict(os.environ, GENMETRICS_BAD_INPUT_REPORT=report)
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REPO / "tests" / "properties" / "test_bad_input.py")]
        if not slow:
            cmd += ["-m", "not slow"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if not os.path.exists(report):
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit("the bad-input tests wrote no tally (see their output above)")
        with open(report) as f:
            tally = json.load(f)
    tally["wall_s"] = round(wall, 1)
    tally["pytest_exit_code"] = proc.returncode
    tally["command"] = " ".join(["python"] + cmd[1:])
    return tally


def table(tally: dict) -> str:
    lines = ["| test | cases | refused (ValueError/TypeError naming an argument) | right numbers | crashes | wrong numbers |",
             "|---|---:|---:|---:|---:|---:|"]
    for test, counts in sorted(tally["by_test"].items()):
        n = sum(counts.values())
        lines.append(f"| `{test}` | {n} | " + " | ".join(str(counts.get(o, 0)) for o in OUTCOMES) + " |")
    t = tally["totals"]
    lines.append(f"| **all** | **{tally['cases']}** | " + " | ".join(f"**{t.get(o, 0)}**" for o in OUTCOMES) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slow", action="store_true", help="include the tests marked slow")
    ap.add_argument("--out", default=str(REPO / "bench" / "results"), help="folder for bad_input.md/.json")
    args = ap.parse_args(argv)
    tally = run(args.slow)
    text = table(tally)
    t = tally["totals"]
    summary = (f"{tally['cases']} cases: {t.get('refused', 0)} refused, {t.get('right', 0)} right numbers, "
               f"{t.get('crash', 0)} crashes, {t.get('wrong', 0)} wrong numbers ({tally['wall_s']} s)")
    print(text)
    print()
    print(summary)
    for p in tally.get("problems", [])[:10]:
        print(f"  {p['outcome']} in {p['test']}: {p['detail'][:300]}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bad_input.md").write_text(f"# Bad-input run\n\n`python bench/bad_input.py`\n\n{text}\n\n{summary}\n")
    (out / "bad_input.json").write_text(json.dumps(tally, indent=1, sort_keys=True) + "\n")
    return 1 if t.get("crash", 0) or t.get("wrong", 0) else 0


if __name__ == "__main__":
    raise SystemExit(main())
