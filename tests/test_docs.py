"""The documentation's links and paths point at files that exist.

Checks ``README.md`` and ``docs/*.md``:

- every relative markdown link ``[text](target)``: the file part of ``target`` must exist
  (relative to the page), and an anchor into a markdown page must be one of its headings;
- every path in inline backticks that looks like a path in this repository (its first
  component is a top-level entry of the repository, e.g. `bench/knn.py`, `data/models/`, or a
  sub-package or module of ``genmetrics_nb``, e.g. `metrics/result.py`) must exist. Paths with
  placeholders (`reports/<name>/`, `fcn{variant}.pt`, `*.png`) are not checked.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Paths that other developers' changes of this session create. The docs already describe them;
# empty this list once those changes are merged (the test then checks them like any other path).
PENDING = frozenset({
})

# Places the code reads from when a user puts files there; not shipped in the repository.
USER_LOCATIONS = frozenset({
    "data/fashion-mnist/",  # gm.datasets.fashion_mnist's third lookup location
})

# Top-level entries that are generated, not tracked: paths under them are not checked.
GENERATED = frozenset({"reports"})

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE = re.compile(r"`([^`\n]+)`")
_PLACEHOLDER = re.compile(r"[<>{}*$~?\[\]…]|\.\.\.")


def doc_pages(root: Path = REPO) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _prose(text: str) -> str:
    """The text outside fenced code blocks (commands there are not checked)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return "\n".join(out)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _prose(page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if not m:
            continue
        base = slug(m.group(1))
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.add(base if k == 0 else f"{base}-{k}")
    return out


def _resolve_code_path(token: str, root: Path) -> str | None:
    """The repository path a backticked token names, or None when it is not a repo path."""
    token = re.sub(r":[\w.-]*$", "", token.strip())  # `file.py:123`, `module.py:name`
    if " " in token or "/" not in token or _PLACEHOLDER.search(token) or "://" in token:
        return None
    if token.startswith(("/", "./", "../")):
        return None
    first = token.split("/", 1)[0]
    top = {p.name for p in root.iterdir()}
    package = root / "genmetrics_nb"
    inner = {p.name for p in package.iterdir() if p.is_dir()} | {p.stem for p in package.glob("*.py")}
    if first in GENERATED:
        return None
    if first in top:
        return token
    if first in inner:
        return f"genmetrics_nb/{token}"
    return None


def _exists(rel: str, root: Path) -> bool:
    if rel in USER_LOCATIONS:
        return True
    for pending in PENDING:  # a pending folder covers what is named inside it
        if rel.rstrip("/") == pending.rstrip("/") or (pending.endswith("/") and rel.startswith(pending)):
            return True
    return (root / rel).exists()


def broken_references(page: Path, root: Path = REPO) -> list[str]:
    """Every link and repository path on ``page`` that does not resolve, as readable lines."""
    text = _prose(page.read_text(encoding="utf-8"))
    problems = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = page if not file_part else (page.parent / file_part).resolve()
        rel = dest.relative_to(root.resolve()).as_posix() if dest.is_relative_to(root.resolve()) else str(dest)
        if file_part and not _exists(rel, root):
            problems.append(f"{page.name}: link ({target}) -> {rel} does not exist")
        elif anchor and dest.suffix == ".md" and dest.exists() and anchor not in anchors(dest):
            problems.append(f"{page.name}: link ({target}) -> no heading '#{anchor}' in {rel}")
    for token in _CODE.findall(text):
        rel = _resolve_code_path(token, root)
        if rel is not None and not _exists(rel, root):
            problems.append(f"{page.name}: `{token}` -> {rel} does not exist")
    return problems


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_links_and_paths_exist(page):
    assert broken_references(page) == []


def test_every_docs_page_is_linked_from_the_index_and_mkdocs_nav():
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    linked = set(_LINK.findall(index))
    missing = [p.name for p in (REPO / "docs").glob("*.md") if p.name != "index.md" and p.name not in linked]
    assert missing == []
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert [p.name for p in (REPO / "docs").glob("*.md") if f": {p.name}" not in nav] == []


def test_pending_paths_do_not_exist_yet():
    # Once a pending path exists, it must leave PENDING so that it is checked for real.
    assert [p for p in PENDING if (REPO / p).exists()] == []


def _fake_repo(tmp_path: Path, page_text: str) -> Path:
    (tmp_path / "genmetrics_nb" / "metrics").mkdir(parents=True)
    (tmp_path / "genmetrics_nb" / "metrics" / "result.py").write_text("")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "knn.py").write_text("")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "metrics.md").write_text("# Metrics\n\n## Distribution metrics: FID, KID\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(page_text)
    return page


def test_checker_accepts_good_references(tmp_path):
    page = _fake_repo(tmp_path, (
        "See [metrics](metrics.md), [FID](metrics.md#distribution-metrics-fid-kid), [top](#a-page),\n"
        "`bench/knn.py`, `metrics/result.py`, `genmetrics_nb/metrics/`, `reports/index.html`,\n"
        "`reports/<name>/x.html`, `gm.fid(real, fake)`, `evaluations/evaluator.py`,\n"
        "[site](https://example.org/missing.md).\n\n# A page\n"
        "```\npython bench/not_there.py\n```\n"))
    assert broken_references(page, tmp_path) == []


def test_checker_finds_broken_links_anchors_and_paths(tmp_path):
    page = _fake_repo(tmp_path, (
        "[gone](missing.md) [bad anchor](metrics.md#nowhere) [gone too](../bench/gone.py#L3)\n"
        "`bench/nope.py` and `metrics/gone.py`\n"))
    problems = broken_references(page, tmp_path)
    assert len(problems) == 5, problems
    assert any("docs/missing.md does not exist" in p for p in problems)
    assert any("no heading '#nowhere'" in p for p in problems)
    assert any("bench/gone.py does not exist" in p for p in problems)
    assert any("`bench/nope.py`" in p for p in problems)
    assert any("genmetrics_nb/metrics/gone.py does not exist" in p for p in problems)


@pytest.mark.parametrize("heading, anchor", [
    # Expected anchors written by hand from GitHub's rule (as implemented by github-slugger): lower
    # case, every character other than letters, digits, '-', '_' and space dropped, spaces to '-'.
    ("Distribution metrics: FID, KID, IS, precision/recall, density/coverage",
     "distribution-metrics-fid-kid-is-precisionrecall-densitycoverage"),
    ("PSNR, SSIM, MS-SSIM", "psnr-ssim-ms-ssim"),
    ("Reliability: what happens when...", "reliability-what-happens-when"),
    ("Beyond one machine (`torchrun`)", "beyond-one-machine-torchrun"),
])
def test_slug(heading, anchor):
    assert slug(heading) == anchor
