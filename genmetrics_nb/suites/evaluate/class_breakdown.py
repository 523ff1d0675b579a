"""The evaluate suite's per-class breakdown: class histograms and the Frechet distance within each class."""
from __future__ import annotations

import dataclasses
import html
import math
import warnings

import numpy as np

from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.suites.evaluate.display import frame
from genmetrics_nb.suites.evaluate.sets import Evaluation
from genmetrics_nb.util.warn import reemit_once

__all__ = ["PerClass", "per_class"]


@dataclasses.dataclass(frozen=True)
class PerClass:
    """Class histograms and the Frechet distance per class.

    Attributes
    ----------
    class_names : list of str
    real_counts : numpy.ndarray
        Images per class in the whole reference.
    generated_counts : dict
        Set name -> counts per class (from the set's labels or the classifier).
    fd : dict
        Set name -> FD per class (NaN where a side has fewer than 2 samples).
    fd_name : str
    labelled_by : str
        Where the generated labels come from.
    applies : bool
        False when the reference has no labels or the generated sets can get none.
    reason : str
    """

    class_names: list
    real_counts: np.ndarray
    generated_counts: dict
    fd: dict
    fd_name: str
    labelled_by: str
    applies: bool = True
    reason: str = ""

    @property
    def table(self):
        rows = []
        for i, c in enumerate(self.class_names):
            row = {"class": c, "real n": int(self.real_counts[i]),
                   "real share": self.real_counts[i] / max(1, self.real_counts.sum())}
            for n, cnt in self.generated_counts.items():
                row[f"{n} n"] = int(cnt[i])
                row[f"{n} share"] = cnt[i] / max(1, cnt.sum())
                row[f"{n} {self.fd_name}"] = self.fd[n][i]
            rows.append(row)
        return frame(rows).set_index("class")

    def to_dict(self) -> dict:
        if not self.applies:
            return {"applies": False, "reason": self.reason}
        return {"applies": True, "labelled_by": self.labelled_by, "class_names": list(self.class_names),
                "real_counts": self.real_counts.tolist(),
                "generated_counts": {n: c.tolist() for n, c in self.generated_counts.items()},
                "fd": {n: [None if not math.isfinite(v) else v for v in f] for n, f in self.fd.items()}}

    def __str__(self) -> str:
        if not self.applies:
            return f"per-class breakdown does not apply: {self.reason}"
        return f"{len(self.class_names)} classes; {self.fd_name} per class of {', '.join(self.fd)}"

    def _repr_html_(self) -> str:
        if not self.applies:
            return f"<p>Per-class breakdown does not apply: {html.escape(self.reason)}</p>"
        return self.table.to_html(float_format=lambda v: f"{v:.3g}")


def _classify(images, classifier, device) -> np.ndarray:
    if classifier == "shipped":
        from genmetrics_nb.zoo.checkpoints import classifier_logits

        x = images[:, :1] if images.shape[1] == 3 else images
        return np.asarray(classifier_logits(x, device=device)).argmax(1)
    out = np.asarray(classifier(images))
    return out.argmax(1) if out.ndim == 2 else out.astype(np.int64)


def per_class(ev: Evaluation, *, classifier=None, batch_size: int = 256, device="auto") -> PerClass:
    """Class histogram of each generated set against the whole reference, and FD per class.

    Parameters
    ----------
    ev : Evaluation
    classifier : None, "shipped" or callable
        Labels generated images that carry none: ``"shipped"`` is the
        shipped Fashion-MNIST classifier (28 x 28 grey images); a callable
        maps uint8 ``N x 3 x H x W`` images to labels or logits. Without one,
        only sets with their own labels (class folders, ``arr_1``) are broken down.
    batch_size : int
    device : str
    """
    import torch

    from genmetrics_nb.metrics.distribution.frechet import frechet_from_samples

    fd_name = fd_label(ev.protocol["extractor"]["name"])
    if ev.real.labels is None or ev.class_names is None:
        return PerClass([], np.zeros(0), {}, {}, fd_name, "", False,
                        "the reference set has no class labels (use a dataset name or a class-per-folder layout)")
    n_cls = len(ev.class_names)
    real_counts = np.bincount(ev.real.labels, minlength=n_cls)
    counts, fds, how = {}, {}, set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for g in ev.generated:
            if g.labels is not None:
                labels, src = np.asarray(g.labels), "the set's own labels"
            elif classifier is not None:
                labels = np.concatenate([_classify(g.images(np.arange(s, min(s + batch_size, g.n))), classifier, device)
                                         for s in range(0, g.n, batch_size)])
                src = "the shipped Fashion-MNIST classifier" if classifier == "shipped" else "the given classifier"
            else:
                continue
            how.add(src)
            counts[g.name] = np.bincount(labels, minlength=n_cls)[:n_cls]
            per = []
            for c in range(n_cls):
                a, b = ev.real.fd[ev.real.labels == c], g.fd[labels == c]
                ok = len(a) >= 2 and len(b) >= 2
                per.append(float(frechet_from_samples(torch.as_tensor(a, dtype=torch.float64),
                                                      torch.as_tensor(b, dtype=torch.float64))) if ok else math.nan)
            fds[g.name] = per
    reemit_once(caught)
    if not counts:
        return PerClass(list(ev.class_names), real_counts, {}, {}, fd_name, "", False,
                        "the generated sets carry no labels and no classifier was given (classifier=)")
    return PerClass(list(ev.class_names), real_counts, counts, fds, fd_name, ", ".join(sorted(how)))
