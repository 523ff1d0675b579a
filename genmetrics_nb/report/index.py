"""``reports/index.html``: every report with its figure, headline numbers, verdict and status.

:func:`write_index` reads every ``<out>/<name>/results.json`` and writes one
page with a row per report: a thumbnail of its main figure, its status, its
verdict, and up to six headline numbers labelled for a person. What a
notebook records with ``gm.record`` decides what the row shows:

``main_figure``
    The stem of one of its figures (``gm.record("main_figure",
    "fid-class-pairs")``, the name given to ``plots.core.finish``). Without
    it, or when no such figure was saved, the figure saved first is used
    (the runner lists ``results.json["figures"]`` in the order they were
    saved). Its thumbnail is written to ``<out>/<name>/thumbnail.png`` and
    links to the report.
``headline``
    Which recorded keys are headline numbers, in order: a list of keys
    (``gm.record("headline", ["fid_same_class", "fid_different_class"])``)
    or a mapping of key to label (``{"fid_same_class": "FID, same class"}``).
    A key may reach into a recorded dict with dots (``"table.fid"``). Without
    it, the headline is the first six top-level keys whose value is a number
    or a metric result (a dict with a numeric ``"value"``); lists, tables and
    other dicts are left to the report itself.
``verdict``
    ``{"reproduced": True | False | None, "statement": "...", "short": "..."}``
    (:meth:`genmetrics_nb.util.findings.Verdict.to_dict`), recorded last.
    Shown as a green "Reproduced", a red "Not reproduced", or (``None``: the
    question does not apply) a grey line, each with the short statement (at
    most about two lines; the statement cut at a word when there is no
    ``short``). The full statement stays in the report and in the line's
    tooltip; the page header counts the verdicts.

Labels come from the key (``"fid_same_class"`` -> "FID same class"; known
metric names are written as acronyms). A metric result shows as
``value ± std``, or ``value (95% CI low-high)`` for a bootstrap interval.
Numbers are written by :func:`genmetrics_nb.util.format.fmt_number` (four significant digits; ``"inf"`` and ``"nan"`` (how
``gm.record`` writes non-finite floats) show as ∞ and NaN). Every string
taken from a ``results.json`` is HTML-escaped.
"""
from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from urllib.parse import quote

from genmetrics_nb.util.findings import shorten
from genmetrics_nb.util.format import fmt_number
from genmetrics_nb.util.io import atomic_write, atomic_write_text, remove_quietly

__all__ = [
    "write_index",
    "headline",
    "label",
    "format_number",
    "verdict",
    "main_figure",
    "write_thumbnail",
    "THUMBNAIL",
]

_MAX_HEADLINE = 6
#: File name of a report's thumbnail, next to its ``results.json``.
THUMBNAIL = "thumbnail.png"
_THUMB_BOX = (240, 200)  # CSS pixels; the PNG has twice as many for sharp HiDPI screens
_RESERVED = ("headline", "verdict", "main_figure")
_FIGURE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_NONFINITE = {"inf": "∞", "-inf": "-∞", "nan": "NaN"}
_WORDS = {
    "fid": "FID", "kid": "KID", "is": "IS", "ppl": "PPL", "lpips": "LPIPS", "psnr": "PSNR",
    "ssim": "SSIM", "ms": "MS", "iou": "IoU", "fcn": "FCN", "afc": "AFC", "2afc": "2AFC",
    "fd": "FD", "mse": "MSE", "ci": "CI", "rgb": "RGB", "gan": "GAN", "pr": "PR", "cifar10": "CIFAR-10",
    "mnist": "MNIST", "imagenet": "ImageNet", "stylegan2": "StyleGAN2",
}  # fmt: skip


# ----------------------------------------------------------------- labels and numbers


def label(key: str) -> str:
    """A recorded key as a label for a person.

    >>> label("fid_same_class")
    'FID same class'
    >>> label("mean_iou_vs_real")
    'Mean IoU vs real'
    >>> label("table.ms_ssim"), label("psnr_below_30db")
    ('Table · MS-SSIM', 'PSNR below 30 dB')
    """
    parts = []
    for part in str(key).split("."):
        words = [_WORDS.get(w.lower(), re.sub(r"^(\d+)db$", r"\1 dB", w)) for w in re.split(r"[_\s-]+", part) if w]
        parts.append(" ".join(words).replace("MS SSIM", "MS-SSIM"))
    text = " · ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]


#: The one number formatter (:func:`genmetrics_nb.util.format.fmt_number`), under its old name here.
format_number = fmt_number


def _is_number(value) -> bool:
    if isinstance(value, str):
        return value in _NONFINITE
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _format_value(value, *, chosen: bool) -> str | None:
    """Text for one headline value, or None when it is not a headline number.

    ``chosen``: the notebook named this key in ``headline``, so short lists,
    short strings and booleans are shown too.
    """
    if _is_number(value):
        return fmt_number(value)
    if isinstance(value, dict) and _is_number(value.get("value")):
        text = fmt_number(value["value"])
        low, high, std, ci = value.get("low"), value.get("high"), value.get("std"), value.get("ci")
        if _is_number(low) and _is_number(high):
            if isinstance(ci, (int, float)) and not isinstance(ci, bool) and 0 < ci < 1:
                return f"{text} ({ci * 100:g}% CI {fmt_number(low)}–{fmt_number(high)})"
            return f"{text} [{fmt_number(low)}, {fmt_number(high)}]"
        if _is_number(std):
            return f"{text} ± {fmt_number(std, 2)}"
        return text
    if not chosen:
        return None
    if isinstance(value, bool):
        return fmt_number(value)
    if isinstance(value, str) and len(value) <= 40:
        return value
    if isinstance(value, list) and 0 < len(value) <= 4 and all(_is_number(v) for v in value):
        return ", ".join(fmt_number(v) for v in value)
    return None


def _lookup(metrics: dict, key: str):
    """``metrics[key]``, or a dotted path into nested dicts; KeyError when absent."""
    if key in metrics:
        return metrics[key]
    head, dot, rest = key.partition(".")
    while dot:
        if isinstance(metrics.get(head), dict):
            try:
                return _lookup(metrics[head], rest)
            except KeyError:
                pass
        nxt, dot, rest = rest.partition(".")
        head = f"{head}.{nxt}"
    raise KeyError(key)


def headline(metrics: dict) -> list[tuple[str, str]]:
    """The headline numbers of a ``results.json["metrics"]`` as (label, text), at most six.

    The keys named by a recorded ``"headline"`` (a list of keys, or a mapping
    key -> label), else the first top-level numbers and metric results. A
    named key that was never recorded shows as "—".

    >>> headline({"fid_same_class": 57.123, "is_all": {"value": 3.214, "std": 0.0512, "classes": 1000},
    ...           "kernels": [1, 3, 5]})
    [('FID same class', '57.12'), ('IS all', '3.214 ± 0.051')]
    >>> headline({"a": 1.0, "b_c": 2.0, "headline": {"b_c": "B and C"}})
    [('B and C', '2')]
    """
    if not isinstance(metrics, dict):
        return []
    chosen = metrics.get("headline")
    if isinstance(chosen, list):
        chosen = {str(k): label(k) for k in chosen}
    out = []
    if isinstance(chosen, dict) and chosen:
        for key, name in list(chosen.items())[:_MAX_HEADLINE]:
            try:
                text = _format_value(_lookup(metrics, str(key)), chosen=True)
            except KeyError:
                text = None
            out.append((str(name) if name else label(key), text if text is not None else "—"))
        return out
    for key, value in metrics.items():
        if key in _RESERVED:
            continue
        text = _format_value(value, chosen=False)
        if text is not None:
            out.append((label(key), text))
            if len(out) == _MAX_HEADLINE:
                break
    return out


def verdict(metrics: dict) -> tuple[str, str, str, str] | None:
    """(css class, label, short statement, full statement) of a recorded ``"verdict"``, or None.

    The short statement is the verdict's ``"short"`` when it has one, else its
    statement cut at a word to about two lines
    (:func:`~genmetrics_nb.util.findings.shorten`).

    >>> verdict({"verdict": {"reproduced": False, "statement": "FID same > different"}})
    ('not-reproduced', 'Not reproduced', 'FID same > different', 'FID same > different')
    """
    v = metrics.get("verdict") if isinstance(metrics, dict) else None
    if v is None:
        return None
    short = None
    if isinstance(v, dict):
        reproduced, statement, short = v.get("reproduced"), v.get("statement"), v.get("short")
    elif isinstance(v, bool):
        reproduced, statement = v, None
    else:
        reproduced, statement = None, v
    statement = "" if statement is None else str(statement)
    short = shorten(short if isinstance(short, str) and short else statement)
    if reproduced is True:
        return "reproduced", "Reproduced", short, statement
    if reproduced is False:
        return "not-reproduced", "Not reproduced", short, statement
    return "not-applicable", "Verdict", short, statement


# ----------------------------------------------------------------------- thumbnails


def main_figure(folder, results: dict) -> Path | None:
    """The report's main figure: the recorded ``"main_figure"``, else the first saved, else None."""
    figures = Path(folder) / "figures"
    metrics = results.get("metrics") if isinstance(results.get("metrics"), dict) else {}
    names = [metrics.get("main_figure")] + list(results.get("figures") or [])
    for name in names:
        if not isinstance(name, str):
            continue
        stem = name.removesuffix(".png")
        if _FIGURE_NAME.fullmatch(stem) and (figures / f"{stem}.png").is_file():
            return figures / f"{stem}.png"
    found = sorted(figures.glob("*.png"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    return found[0] if found else None


def write_thumbnail(src, dst, *, box=_THUMB_BOX) -> tuple[int, int] | None:
    """Shrink the PNG ``src`` to fit ``box`` (CSS pixels, drawn at 2x) into ``dst``.

    Returns the size to show it at in CSS pixels, or None (and no ``dst``)
    when ``src`` cannot be read. An up-to-date ``dst`` made from the same
    ``src`` is kept as it is.
    """
    from PIL import Image, PngImagePlugin

    src, dst = Path(src), Path(dst)
    try:
        if dst.is_file() and dst.stat().st_mtime_ns >= src.stat().st_mtime_ns:
            with Image.open(dst) as old:
                if old.text.get("source") == src.name:
                    return (old.width + 1) // 2, (old.height + 1) // 2
        with Image.open(src) as im:
            im = im.convert("RGBA")
            flat = Image.new("RGBA", im.size, "white")
            flat.alpha_composite(im)
            flat = flat.convert("RGB")
        flat.thumbnail((2 * box[0], 2 * box[1]), Image.Resampling.LANCZOS)
        info = PngImagePlugin.PngInfo()
        info.add_text("source", src.name)
        with atomic_write(dst, suffix=".tmp.png") as fh:
            flat.save(fh, format="PNG", optimize=True, pnginfo=info)
        os.chmod(dst, 0o644)  # a temporary file is private; a report is for everyone who can read the folder
    except (OSError, ValueError):  # a truncated or foreign file: no thumbnail
        remove_quietly(dst)
        return None
    return (flat.width + 1) // 2, (flat.height + 1) // 2


# ----------------------------------------------------------------------------- page

_STATUS_TEXT = {"ok": "ok", "failed": "failed", "timeout": "timed out", "interrupted": "interrupted"}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em;
       padding: 0 1.5em; color: #1f2328; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
.summary { color: #59636e; margin-top: 0; }
.summary b { color: #1f2328; }
table.reports { border-collapse: collapse; width: 100%; }
table.reports > tbody > tr > td { border-top: 1px solid #d1d9e0; padding: 1em .8em; vertical-align: top; }
td.thumb { width: 240px; }
td.thumb img { display: block; border: 1px solid #d1d9e0; border-radius: 4px; background: #fff; }
.nofig { width: 240px; height: 100px; display: flex; align-items: center; justify-content: center;
         color: #8c959f; border: 1px dashed #d1d9e0; border-radius: 4px; font-size: .9em; }
h2 { font-size: 1.15em; margin: 0 0 .3em 0; }
h2 a { color: #0969da; text-decoration: none; }
h2 a:hover { text-decoration: underline; }
.status { display: inline-block; font-size: .75em; font-weight: 600; padding: .1em .55em; border-radius: 1em;
          margin-left: .5em; vertical-align: middle; border: 1px solid; }
.status.ok { color: #1a7f37; border-color: #1a7f37; background: #dafbe1; }
.status.failed, .status.timeout { color: #cf222e; border-color: #cf222e; background: #ffebe9; }
.status.interrupted, .status.unknown { color: #9a6700; border-color: #bf8700; background: #fff8c5; }
.meta { color: #59636e; font-size: .85em; margin: 0 0 .5em 0; }
.meta a { color: #59636e; }
.verdict { margin: .4em 0; padding: .3em .6em; border-left: 4px solid; border-radius: 2px; font-size: .92em;
           display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.verdict b { margin-right: .4em; }
.verdict.reproduced { color: #1a7f37; border-color: #1a7f37; background: #f0fff4; }
.verdict.not-reproduced { color: #cf222e; border-color: #cf222e; background: #fff5f5; }
.verdict.not-applicable { color: #59636e; border-color: #8c959f; background: #f6f8fa; }
.error { color: #cf222e; font-family: ui-monospace, monospace; font-size: .8em; margin: .4em 0;
         white-space: pre-wrap; word-break: break-word; max-height: 6em; overflow: auto; }
table.numbers { border-collapse: collapse; font-size: .9em; }
table.numbers th { text-align: left; font-weight: normal; color: #59636e; padding: .15em 1.2em .15em 0; }
table.numbers td { text-align: right; font-variant-numeric: tabular-nums; padding: .15em 0; white-space: nowrap; }
td.numbers-cell { width: 22em; }
.none { color: #8c959f; font-size: .9em; }
"""


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _href(*parts: str) -> str:
    return _esc("/".join(quote(p) for p in parts))


def _count(items, order) -> str:
    seen = {}
    for item in items:
        seen[item] = seen.get(item, 0) + 1
    keys = [k for k in order if k in seen] + sorted(k for k in seen if k not in order)
    return ", ".join(f"<b>{seen[k]}</b> {_esc(order.get(k, k))}" for k in keys)


def _row(folder: Path, res: dict) -> tuple[str, str, str | None]:
    name = str(res.get("notebook") or folder.name)
    status = str(res.get("status") or "unknown")
    status_cls = status if status in _STATUS_TEXT else "unknown"
    metrics = res.get("metrics") if isinstance(res.get("metrics"), dict) else {}
    page = _href(folder.name, f"{name}.html")

    fig = main_figure(folder, res)
    size = write_thumbnail(fig, folder / THUMBNAIL) if fig is not None else None
    if fig is None or size is None:
        remove_quietly(folder / THUMBNAIL)
        thumb = "<div class='nofig'>no figure</div>"
    else:
        thumb = (
            f"<a href='{page}' title='{_esc(fig.name)}'><img src='{_href(folder.name, THUMBNAIL)}' "
            f"width='{size[0]}' height='{size[1]}' alt='{_esc(f'{name}: {fig.stem}')}'></a>"
        )

    meta = [f"profile {_esc(res.get('profile', '?'))}"]
    wall = res.get("wall_time_s")
    if isinstance(wall, (int, float)) and not isinstance(wall, bool):
        meta.append(f"{wall:.1f} s" if wall < 10 else f"{wall:.0f} s" if wall < 120 else f"{wall / 60:.1f} min")
    if res.get("device"):
        meta.append(_esc(res["device"]))
    if res.get("git_commit"):
        commit = str(res["git_commit"])
        short = commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")
        meta.append(f"commit <code title='{_esc(commit)}'>{_esc(short)}</code>")
    if res.get("started_at"):
        started = str(res["started_at"])
        meta.append(_esc(started[:16].replace("T", " ") + (" UTC" if started.endswith("+00:00") else "")))
    meta.append(f"<a href='{_href(folder.name, 'results.json')}'>results.json</a>")

    v = verdict(metrics)
    verdict_html = ""
    if v is not None:
        cls, title, short, statement = v
        more = f" title='{_esc(statement)}'" if statement != short else ""
        verdict_html = f"<div class='verdict {cls}'{more}><b>{_esc(title)}</b>{_esc(short)}</div>"
    error = f"<div class='error'>{_esc(res['error'])}</div>" if res.get("error") else ""

    numbers = headline(metrics)
    if numbers:
        body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(t)}</td></tr>" for k, t in numbers)
        numbers_html = f"<table class='numbers'>{body}</table>"
    else:
        numbers_html = "<span class='none'>no headline numbers recorded</span>"

    row = (
        f"<tr class='report {_esc(status_cls)}' id='{_esc(name)}'>"
        f"<td class='thumb'>{thumb}</td>"
        f"<td><h2><a href='{page}'>{_esc(name)}</a>"
        f"<span class='status {_esc(status_cls)}'>{_esc(_STATUS_TEXT.get(status, status))}</span></h2>"
        f"<p class='meta'>{' · '.join(meta)}</p>{verdict_html}{error}</td>"
        f"<td class='numbers-cell'>{numbers_html}</td></tr>\n"
    )
    return row, status, (v[0] if v else None)


def write_index(out_dir) -> Path:
    """Rebuild ``out_dir/index.html`` (and each report's thumbnail) from every ``*/results.json``.

    Returns the path of the page. A ``results.json`` that is not valid JSON
    is skipped.
    """
    out_dir = Path(out_dir)
    rows, statuses, verdicts = [], [], []
    for res_path in sorted(out_dir.glob("*/results.json")):
        try:
            res = json.loads(res_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(res, dict):
            continue
        row, status, v = _row(res_path.parent, res)
        rows.append(row)
        statuses.append(status)
        verdicts.append(v)

    summary = f"<b>{len(rows)}</b> report{'s' if len(rows) != 1 else ''}"
    if rows:
        summary += ": " + _count(statuses, _STATUS_TEXT)
    judged = [v for v in verdicts if v in ("reproduced", "not-reproduced")]
    if judged:
        found = _count(judged, {"reproduced": "reproduced", "not-reproduced": "not reproduced"})
        summary += f". Findings: {found} (of {len(rows)})"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>genmetrics-nb reports</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_CSS}</style></head><body>
<h1>genmetrics-nb reports</h1>
<p class="summary">{summary}.<br>Each figure and name opens the executed notebook; the numbers are read
from each report's <code>results.json</code>.</p>
<table class="reports"><tbody>
{''.join(rows)}</tbody></table>
</body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    atomic_write_text(path, page)
    os.chmod(path, 0o644)
    return path
