"""The evaluate notebook's story: which generated set is closest to the reference, and is any a copier.

The machinery (reading the sets, the summary, realism, memorisation,
per-class, sample-size and protocol sections) is the evaluate suite,
:mod:`genmetrics_nb.suites.evaluate`; the notebook calls it step by step
and ends with :func:`evaluate_verdict`. Evaluating one's own model
reproduces no published finding, so the verdict makes no claim
(``reproduced=None``): it states what the numbers say.
"""
from __future__ import annotations

from genmetrics_nb.util.findings import Verdict, check, not_testable
from genmetrics_nb.suites.evaluate.display import fmt

__all__ = ["evaluate_verdict", "FINDING", "NO_CLAIM"]

#: What the evaluate notebook looks at.
FINDING = "Which generated set is closest to the reference, and whether any copies reference images"
#: Why the verdict is ``reproduced=None``.
NO_CLAIM = "no claim: evaluating your own model reproduces nothing"


def evaluate_verdict(summary, memo=None) -> Verdict:
    """The evaluation's conclusion from the summary's and the memorisation check's numbers.

    Checks (they report, they do not decide: ``reproduced`` is None):

    - the set with the lowest FD, and whether its interval is clear of the
      runner-up's (the bootstrap intervals do not overlap);
    - the held-out real images' FD at their n, what a perfect generator scores;
    - no generated sample closer to a reference image than new real images come.

    Parameters
    ----------
    summary : SummaryTable
        From :func:`genmetrics_nb.suites.evaluate.summary_table`.
    memo : Memorisation, optional
        From :func:`genmetrics_nb.suites.evaluate.copy_detection`.

    Returns
    -------
    Verdict
    """
    rows = sorted((r for r in summary.rows if r.get("fd") is not None), key=lambda r: r["fd"])
    if not rows:
        return not_testable(FINDING, f"{NO_CLAIM}; no generated set was scored")
    best = rows[0]
    fd = summary.fd_name
    checks = []
    if len(rows) > 1:
        second = rows[1]
        if "fd_high" in best and "fd_low" in second:
            clear = best["fd_high"] < second["fd_low"]
            checks.append(check(
                f"best by {fd}: {best['name']} {fmt(best['fd'])} (n = {best['n']}), "
                f"{'clearly' if clear else 'not clearly'} ahead of {second['name']} {fmt(second['fd'])}: "
                f"the intervals {'do not overlap' if clear else 'overlap'}", clear))
        else:
            checks.append(check(f"best by {fd}: {best['name']} {fmt(best['fd'])} (n = {best['n']}), ahead of "
                                f"{second['name']} {fmt(second['fd'])} (no intervals)", True))
    else:
        checks.append(check(f"{fd} of {best['name']}: {fmt(best['fd'])} (n = {best['n']})", True))
    base = summary.baseline
    checks.append(check(f"held-out real images score {fd} {fmt(base.get('fd'))} at n = {base.get('n')} "
                        "(a perfect generator's score)", True))
    if memo is not None:
        flagged = {n: len(v) for n, v in memo.flagged.items() if len(v)}
        text = ("possible copies of reference images: " + ", ".join(f"{n} {c}" for n, c in flagged.items())
                if flagged else "no sample is closer to a reference image than new real images come")
        checks.append(check(text, not flagged))
    return not_testable(FINDING, NO_CLAIM, checks)
