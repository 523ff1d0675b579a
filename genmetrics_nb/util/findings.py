"""The one verdict type: did a document's finding reproduce, and on which numbers.

Every notebook's experiment module has a ``<notebook>_verdict(...)`` function
that reads the notebook's results, checks the finding the notebook is about,
and returns a :class:`Verdict`. The notebook records it last
(``gm.record("verdict", v)``; the index page shows it) and displays it as a
short coloured paragraph. A finding the setting cannot test (it needs data,
weights or sample sizes the run does not have) gives ``reproduced=None`` and a
statement saying why.

It lives at the bottom of the layers (it imports nothing of the package) so
that every story and every suite (the evaluate report's verdict too) speaks
the same type, and the report index reads one shape:
``{"reproduced", "statement", "short", ...}``.
"""
from __future__ import annotations

import dataclasses
import html
import math

__all__ = ["Check", "Verdict", "check", "verdict_from_checks", "not_testable", "relation", "shorten", "SHORT_CHARS"]

#: The longest short statement (about two lines of the report index).
SHORT_CHARS = 200


def relation(a: float, b: float) -> str:
    """``"<"``, ``"="`` or ``">"``: how ``a`` compares with ``b`` (``"?"`` when either is NaN)."""
    if math.isnan(a) or math.isnan(b):
        return "?"
    return "<" if a < b else (">" if a > b else "=")


@dataclasses.dataclass(frozen=True)
class Check:
    """One condition of a finding and the numbers behind it.

    ``text`` states what was compared with the observed relation
    (``"same class 57.1 < different classes 197"``), so it reads right
    whether or not the check held.
    """

    text: str
    held: bool

    def to_dict(self) -> dict:
        return {"text": self.text, "held": self.held}


def check(text: str, held) -> Check:
    """A :class:`Check`; ``held`` is converted to a plain bool."""
    return Check(str(text), bool(held))


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether a notebook reproduced its document's finding.

    Attributes
    ----------
    finding : str
        The claim, as the document makes it ("FID of two draws of one class
        is below FID of two different classes").
    reproduced : bool or None
        True when every check held, False when one failed, None when this
        setting cannot test the finding (the statement says why).
    statement : str
        The finding and the numbers behind it, one line; what the index page
        shows beside "Reproduced" / "Not reproduced".
    checks : tuple of Check
        The conditions tested, each with its numbers.
    reason : str
        Why the finding is not testable here (``reproduced=None`` only).
    note : str
        What the checks cannot say (a caveat, a reason for a failure), part
        of the statement too.
    brief : str
        A statement of at most about two lines, when the maker wrote one;
        :attr:`short` falls back on the statement or on a count of checks.
    """

    finding: str
    reproduced: bool | None
    statement: str
    checks: tuple = ()
    reason: str = ""
    note: str = ""
    brief: str = ""

    @property
    def short(self) -> str:
        """The verdict in at most :data:`SHORT_CHARS` characters: what the report index shows.

        ``brief`` when given; else the statement when it is short enough;
        else the finding with how many checks held (and the first that
        failed); else the statement's first sentence, cut at a word.

        >>> v = verdict_from_checks("a is below b", [check("a 1 < b 2", True)] * 30)
        >>> v.short
        'a is below b: all 30 checks held.'
        """
        if self.brief:
            return shorten(self.brief)
        if len(self.statement) <= SHORT_CHARS:
            return self.statement
        if self.checks and self.reproduced is not None:
            held = sum(c.held for c in self.checks)
            if held == len(self.checks):
                return shorten(f"{self.finding}: all {held} checks held.")
            failed = next(c.text.strip() for c in self.checks if not c.held)
            return shorten(f"{self.finding}: {held} of {len(self.checks)} checks held; fails: {failed}.")
        first = self.statement.split(". ", 1)[0]
        return shorten(first if first.endswith(".") else first + ".")

    @property
    def label(self) -> str:
        """``"Finding reproduced"``, ``"Finding not reproduced"`` or ``"Not testable here"``."""
        if self.reproduced is None:
            return "Not testable here"
        return "Finding reproduced" if self.reproduced else "Finding not reproduced"

    def to_dict(self) -> dict:
        """``reproduced`` and ``statement`` first (what the index reads), then the finding and checks."""
        return {"reproduced": self.reproduced, "statement": self.statement, "short": self.short,
                "finding": self.finding, "checks": [c.to_dict() for c in self.checks]}

    def __str__(self) -> str:
        return f"{self.label}: {self.statement}"

    def __repr__(self) -> str:
        return f"Verdict({self.label}: {self.finding})"

    def _repr_html_(self) -> str:
        colour = {True: "#1a7f37", False: "#cf222e", None: "#59636e"}[self.reproduced]
        items = "".join(
            f"<li>{'&#10003;' if c.held else '&#10007;'} {html.escape(c.text)}</li>" for c in self.checks
        )
        lines = f"<ul style='margin:.2em 0 0 0;padding-left:1.2em;list-style:none'>{items}</ul>" if items else ""
        why = f"<br>Not testable here: {html.escape(self.reason)}." if self.reason else ""
        note = f"<small>{html.escape(self.note)}</small>" if self.note else ""
        return (f"<div style='border-left:4px solid {colour};padding:.3em .7em'>"
                f"<b style='color:{colour}'>{html.escape(self.label)}</b>: {html.escape(self.finding)}.{why}{lines}"
                f"{note}</div>")


def shorten(text: str, limit: int = SHORT_CHARS) -> str:
    """``text`` on one line, cut at a word to at most ``limit`` characters, with an ellipsis when cut.

    >>> shorten("one two three", 9)
    'one two…'
    """
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def verdict_from_checks(finding: str, checks, *, note: str = "", short: str = "") -> Verdict:
    """Reproduced when every check held; the statement lists each check's numbers, then ``note``.

    ``short`` is the verdict in at most two lines for the report index
    (default: :attr:`Verdict.short`'s fallback).

    Examples
    --------
    >>> v = verdict_from_checks("a is below b", [check("a 1 < b 2", 1 < 2)])
    >>> v.reproduced, str(v)
    (True, 'Finding reproduced: a is below b: a 1 < b 2.')
    """
    checks = tuple(checks)
    if not checks:
        raise ValueError("a verdict needs at least one check")
    held = all(c.held for c in checks)
    parts = [c.text + ("" if c.held or held else " (fails)") for c in checks]
    statement = f"{finding}: " + "; ".join(parts) + "." + (f" {note}" if note else "")
    return Verdict(finding, held, statement, checks, note=note, brief=short)


def not_testable(finding: str, reason: str, checks=()) -> Verdict:
    """``reproduced=None``: this setting cannot test ``finding``, for ``reason``.

    ``checks`` may still report what was measured (they do not decide).
    """
    checks = tuple(checks)
    measured = ("; measured: " + "; ".join(c.text for c in checks)) if checks else ""
    return Verdict(finding, None, f"{finding}: not testable here, {reason}{measured}.", checks, str(reason))
