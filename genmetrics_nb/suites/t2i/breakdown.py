"""Why the text-to-image numbers are what they are: per category, worst prompts, truncation, protocol."""
from __future__ import annotations

import dataclasses
import html

import numpy as np

__all__ = ["CategoryTable", "TruncationReport", "WorstAligned", "category_table", "protocol_block", "truncation_table",
           "worst_aligned"]


def _per_image(scores) -> dict:
    """Metric name -> per-image score (CLIPScore's under its convention, PickScore, HPS as 100 x cos)."""
    out = {f"CLIPScore ({scores.clip.convention})": np.asarray(scores.clip.per_sample, dtype=np.float64)}
    if scores.pickscore is not None:
        out["PickScore"] = np.asarray(scores.pickscore.per_sample, dtype=np.float64)
    if scores.hps is not None:
        out[f"HPS {scores.hps.version}"] = 100.0 * np.asarray(scores.hps.per_sample, dtype=np.float64)
    if scores.imagereward is not None:
        out["ImageReward"] = np.asarray(scores.imagereward.per_sample, dtype=np.float64)
    return out


@dataclasses.dataclass(frozen=True)
class CategoryTable:
    """Mean per-image scores within each prompt category.

    Attributes
    ----------
    rows : list of dict
        ``category``, ``n`` and one mean per metric, in order of first appearance.
    metrics : tuple of str
    applies : bool
        False when the prompts carry no categories (``rows`` is then empty).
    """

    rows: list
    metrics: tuple
    applies: bool

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict:
        return {"applies": self.applies, "metrics": list(self.metrics), "rows": self.rows}

    def _repr_html_(self) -> str:
        if not self.applies:
            return "<p>The prompts carry no categories: no breakdown.</p>"
        return self.table().to_html(index=False, float_format=lambda v: f"{v:.4g}")


def category_table(scores) -> CategoryTable:
    """Per prompt category (``prompts.jsonl``'s ``category``, PartiPrompts' categories, ...): the
    number of images and the mean of each per-image score."""
    cats = scores.prompted.categories
    per = _per_image(scores)
    if cats is None:
        return CategoryTable([], tuple(per), False)
    cats = np.asarray([str(c) for c in cats])
    rows = []
    for c in dict.fromkeys(cats):
        m = cats == c
        rows.append({"category": str(c), "n": int(m.sum()), **{k: float(v[m].mean()) for k, v in per.items()}})
    return CategoryTable(rows, tuple(per), True)


@dataclasses.dataclass(frozen=True)
class WorstAligned:
    """The prompts whose images agree least with them under CLIPScore's CLIP.

    Attributes
    ----------
    prompts : tuple of str
    cosines : tuple of float
        Mean image-prompt cosine over each prompt's images (lowest first).
    images : tuple of tuple of int
        Image indices of each prompt (at most ``per_prompt``).
    files : tuple of tuple of str
        Their files.
    model : str
    """

    prompts: tuple
    cosines: tuple
    images: tuple
    files: tuple
    model: str

    def to_dict(self) -> dict:
        return {"model": self.model, "rows": [{"prompt": p, "cosine": c, "images": list(i)}
                                              for p, c, i in zip(self.prompts, self.cosines, self.images)]}

    def table(self):
        import pandas as pd

        return pd.DataFrame({"prompt": self.prompts, "mean cosine": self.cosines,
                             "images": [len(i) for i in self.images]})

    def _repr_html_(self) -> str:
        return self.table().to_html(index=False, float_format=lambda v: f"{v:.4g}")


def worst_aligned(scores, *, k: int = 8, per_prompt: int = 4) -> WorstAligned:
    """The ``k`` prompts of lowest mean image-prompt cosine (CLIPScore's model), with their images."""
    from genmetrics_nb.util.checks import check_int

    k = check_int(k, name="k", minimum=1)
    per_prompt = check_int(per_prompt, name="per_prompt", minimum=1)
    cos = np.asarray(scores.clip.cosine, dtype=np.float64)
    pidx = np.asarray(scores.prompted.prompt_index)
    prompts = scores.prompted.prompts
    files = scores.prompted.images.files
    groups = {}
    for i, p in enumerate(pidx):
        groups.setdefault(int(p), []).append(i)
    means = sorted(((float(cos[idx].mean()), p) for p, idx in groups.items()), key=lambda t: (t[0], t[1]))[:k]
    sel = [groups[p][:per_prompt] for _, p in means]
    return WorstAligned(
        prompts=tuple(prompts[s[0]] for s in sel), cosines=tuple(m for m, _ in means),
        images=tuple(tuple(s) for s in sel),
        files=tuple(tuple(files[i] for i in s) if files is not None else () for s in sel),
        model=str(scores.clip.model),
    )


@dataclasses.dataclass(frozen=True)
class TruncationReport:
    """Per text model: tokenizer, context length, truncation rule, longest prompt and the prompts cut."""

    rows: list

    def to_dict(self) -> dict:
        return {"rows": self.rows}

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def _repr_html_(self) -> str:
        return self.table().to_html(index=False)


def truncation_table(scores) -> TruncationReport:
    """For each text model: its tokenizer, context length, truncation rule and the prompts it cut."""
    rows = []
    for metric, r in (("CLIPScore", scores.clip), ("PickScore", scores.pickscore), ("HPS", scores.hps),
                      ("ImageReward", scores.imagereward)):
        if r is None:
            continue
        t, fp = r.truncation, r.tokenizer
        cut = list(t.get("truncated_prompts", ()))
        kind = "BERT WordPiece, uncased" if metric == "ImageReward" else (
            "CLIP BPE, " + fp["normalisation"].rsplit("(", 1)[-1].rstrip(")"))
        rows.append({"metric": metric, "tokenizer": f"{kind} (vocab {fp['vocab_sha256'][:12]})",
                     "context": fp["context_length"], "rule": fp["truncation"],
                     "longest prompt (tokens)": t.get("max_tokens"),
                     "truncated": f"{t['n_truncated']} of {t['n_prompts']}",
                     "truncated prompts": "; ".join(p if len(p) <= 60 else p[:57] + "..." for p in cut[:5])
                     + (f" (+{len(cut) - 5} more)" if len(cut) > 5 else "")})
    return TruncationReport(rows)


@dataclasses.dataclass(frozen=True)
class _Protocol:
    entries: dict

    def to_dict(self) -> dict:
        return self.entries

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in self.entries.items())
        return f"<table><tbody>{rows}</tbody></table>"


def protocol_block(scores):
    """Everything that decides the numbers: models with sha256, conventions, tokenizers, n."""
    m = scores.models
    c = scores.clip
    e = {
        "weights": ("random-weight stand-ins in each publisher's format (numbers mean nothing)" if m.stand_ins
                    else "the files named below"),
        "images": scores.prompted.images.description,
        "n images": len(scores.prompted),
        "n prompts": scores.prompted.n_prompts,
        "prompt set": scores.prompted.prompt_set or "prompts.jsonl",
        "prompts checked against": scores.prompted.checked_against or "not checked (the folder's own prompts)",
        "CLIPScore": f"convention {c.convention} ({c.scale:g} x cos, clip {c.clip}, prefix {c.prefix!r}); model "
                     f"{c.model} ({c.model_format}), sha256 {c.weights_sha256}",
        "CLIPScore tokenizer": f"vocab sha256 {c.tokenizer['vocab_sha256']}, {c.tokenizer['normalisation']}, "
                               f"context {c.tokenizer['context_length']}, truncation {c.tokenizer['truncation']}",
    }
    if scores.pickscore is not None:
        p = scores.pickscore
        e["PickScore"] = (f"{p.version}, {p.model} ({p.model_format}), sha256 {p.weights_sha256} "
                          f"({'verified' if p.sha256_verified else 'not verified'}), logit scale {p.logit_scale:.4g}")
    if scores.hps is not None:
        h = scores.hps
        e["HPS"] = (f"{h.version}, {h.model} ({h.model_format}), sha256 {h.weights_sha256} "
                    f"({'verified' if h.sha256_verified else 'not verified'})")
    if scores.imagereward is not None:
        r = scores.imagereward
        e["ImageReward"] = (f"{r.version}, {r.model}, sha256 {r.weights_sha256} "
                            f"({'verified' if r.sha256_verified else 'not verified'}), med_config sha256 "
                            f"{r.med_config_sha256}, BERT vocab sha256 {r.tokenizer['vocab_sha256']}, "
                            f"{r.tokenizer['context_length']} tokens ({r.tokenizer['truncation']})")
    for key in ("CMMD", "FD-DINOv2"):
        r = scores.cmmd if key == "CMMD" else scores.fd
        if r is not None:
            d = r.to_dict()
            e[key] = (f"extractor {d.get('extractor')} [{d.get('output')}], weights sha256 "
                      f"{d.get('weights_sha256') or d.get('weights_digest') or '-'}, n real {d.get('n_real')}, "
                      f"n generated {d.get('n_fake')}")
    for k, why in scores.skipped.items():
        e.setdefault(k, f"not computed: {why}")
    return _Protocol(e)
