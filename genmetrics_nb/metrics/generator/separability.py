"""Linear separability of a generator's latent space (Karras et al. 2019, Sec. 4.2).

Generate images, label each binary attribute with a classifier, keep the
most confident half of the samples, fit a linear SVM that predicts the label
from the latent (z, or w), and measure how much the classifier's label is
left unexplained by the SVM's: the conditional entropy H(Y | X) in bits, X
the SVM's prediction and Y the classifier's label. The score is
``2 ** sum(H)`` over attributes (= exp of the sum in nats). 1 is perfect;
a larger number means a more entangled space.

Offline, the attributes are the ten Fashion-MNIST classes, one-vs-rest,
labelled by the shipped classifier (:func:`genmetrics_nb.zoo.load_classifier`);
the paper used 40 CelebA attribute classifiers, which users can wrap with
:class:`AttributeClassifier` (``kind="binary"``).
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from genmetrics_nb.generators.attributes import AttributeClassifier
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_choice, check_int

__all__ = [
    "AttributeClassifier",
    "SeparabilityResult",
    "attribute_probabilities",
    "conditional_entropy",
    "linear_separability",
    "separability_from_latents",
]


def attribute_probabilities(logits, kind):
    """Probability that each attribute is present, ``N x A`` numpy float64.

    ``kind="multiclass"``: softmax over the columns; ``"binary"``:
    ``softmax([l, -l])[0] = sigmoid(2 l)`` (StyleGAN's ``linear_separability.py``).
    """
    import torch

    logits = torch.as_tensor(logits).double()
    if kind == "multiclass":
        return torch.softmax(logits, dim=1).numpy()
    if kind == "binary":
        return torch.sigmoid(2.0 * logits).numpy()
    raise ValueError(f"kind must be 'multiclass' or 'binary', got {kind!r}")


def _entropy_bits(p):
    p = np.asarray(p, dtype=np.float64).ravel()
    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)))


def conditional_entropy(x, y) -> float:
    """H(Y | X) in bits from paired binary labels, as StyleGAN: H(X, Y) - H(X).

    Parameters
    ----------
    x : array of {0, 1}
        The SVM's predictions.
    y : array of {0, 1}
        The classifier's labels.
    """
    x = np.asarray(x).astype(np.int64)
    y = np.asarray(y).astype(np.int64)
    if x.shape != y.shape or x.ndim != 1 or x.size == 0:
        raise ValueError(f"x and y must be 1-D label arrays of equal length, got {x.shape} and {y.shape}")
    if not (np.isin(x, (0, 1)).all() and np.isin(y, (0, 1)).all()):
        raise ValueError("x and y must hold binary labels 0 and 1")
    joint = np.array([[np.mean((x == r) & (y == c)) for c in (0, 1)] for r in (0, 1)])
    return _entropy_bits(joint) - _entropy_bits(joint.sum(axis=1))


@dataclasses.dataclass(frozen=True)
class SeparabilityResult(Result):
    """Linear separability and its parts.

    Attributes
    ----------
    value : float
        ``2 ** sum(entropies)``; 1 = every attribute linearly separable.
        ``to_dict()`` also writes it under its former key ``"score"``.
    entropies : dict
        Attribute name -> H(Y | SVM label) in bits.
    space : str
        ``"z"`` or ``"w"``.
    psi : float
    num_samples, num_keep : int
        Samples generated, and most-confident samples kept per attribute.
    keep : str
        ``"most-confident"`` (the reference) or ``"per-label"``.
    classifier : str
    """

    value: float
    entropies: dict
    space: str
    psi: float
    num_samples: int
    num_keep: int
    keep: str
    classifier: str

    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("psi", "classifier")
    n_fields: ClassVar[tuple[str, ...]] = ("num_keep", "num_samples")
    dict_aliases: ClassVar[dict] = {"value": "score"}

    def _label(self) -> str:
        return f"linear separability ({self.space})"

    def __str__(self):
        worst = max(self.entropies, key=self.entropies.get)
        return (
            f"linear separability ({self.space}) = {self.value:.4g}  [sum H = {np.log2(self.value):.3f} bits "
            f"over {len(self.entropies)} attributes; worst: {worst} {self.entropies[worst]:.3f} bits; "
            f"{self.num_keep}/{self.num_samples} kept]"
        )


_KEEPS = ("most-confident", "per-label")


def _kept_indices(pred, num_keep, keep):
    """Indices of the samples kept for one attribute (``pred`` is N x 2)."""
    conf = pred.max(axis=1)
    if keep == "most-confident":
        return np.argsort(-conf, kind="stable")[:num_keep]
    # "per-label": the same share of each predicted label, most confident first.
    label = np.argmax(pred, axis=1)
    frac = num_keep / len(pred)
    out = []
    for v in (0, 1):
        idx = np.flatnonzero(label == v)
        take = int(round(frac * idx.size))
        out.append(idx[np.argsort(-conf[idx], kind="stable")[:take]])
    return np.sort(np.concatenate(out))


def separability_from_latents(latents, probabilities, *, attributes=None, num_keep=None, keep="most-confident",
                              seed=0):
    """Per-attribute conditional entropies from latents and attribute probabilities.

    Parameters
    ----------
    latents : array, N x D
        What the SVM sees (z, or w).
    probabilities : array, N x A
        Probability that each attribute is present.
    attributes : list of str, optional
        Names (default ``"0"``, ``"1"``, ...).
    num_keep : int, optional
        Most confident samples kept per attribute; default half.
    keep : {"most-confident", "per-label"}
        ``"most-confident"`` (the reference): the ``num_keep`` samples with
        the largest ``max(p, 1 - p)``. For a rare attribute (a class against
        nine others) the confident negatives fill the whole quota, the kept
        samples hold one label and the entropy is trivially 0.
        ``"per-label"`` keeps the same share (``num_keep / N``) of each
        predicted label, most confident first -- a deliberate deviation for
        unbalanced attributes.
    seed : int
        ``random_state`` of the linear SVM's coordinate descent.

    Returns
    -------
    dict
        Attribute -> H(Y | X) in bits.

    Notes
    -----
    As StyleGAN's ``metrics/linear_separability.py`` (with the default
    ``keep``): samples are ranked by
    ``max(p, 1 - p)`` with a stable sort, the label is ``argmax(p, 1 - p)``
    (``0`` = present, ties to present), the SVM is ``sklearn.svm.LinearSVC()``
    with default settings, trained and evaluated on the same kept samples; if
    it cannot be fitted (a single class), its prediction is taken as perfect.
    """
    from sklearn.svm import LinearSVC

    latents = np.asarray(latents, dtype=np.float64)
    probs = np.asarray(probabilities, dtype=np.float64)
    if latents.ndim != 2 or probs.ndim != 2 or latents.shape[0] != probs.shape[0]:
        raise ValueError(
            f"latents (N x D) and probabilities (N x A) must have the same N, got {latents.shape} and {probs.shape}"
        )
    n = latents.shape[0]
    num_keep = n // 2 if num_keep is None else check_int(num_keep, name="num_keep", minimum=2)
    if not 2 <= num_keep <= n:
        raise ValueError(f"num_keep must be between 2 and the number of samples ({n}), got {num_keep}")
    check_choice(keep, name="keep", choices=_KEEPS)
    names = list(attributes) if attributes is not None else [str(i) for i in range(probs.shape[1])]
    if len(names) != probs.shape[1]:
        raise ValueError(f"{len(names)} attribute names for {probs.shape[1]} probability columns")
    out = {}
    for a, name in enumerate(names):
        pred = np.stack([probs[:, a], 1.0 - probs[:, a]], axis=1)
        order = _kept_indices(pred, num_keep, keep)
        targets = np.argmax(pred[order], axis=1)
        inputs = latents[order]
        try:
            svm = LinearSVC(random_state=seed)
            svm.fit(inputs, targets)
            outputs = svm.predict(inputs)
        except ValueError:  # one class only: "assume perfect prediction", as the reference
            outputs = targets
        out[name] = conditional_entropy(outputs, targets)
    return out


def linear_separability(generator, classifier, *, num_samples: int = 200_000, num_keep: int | None = None,
                        keep: str = "most-confident", space: str = "w", psi: float = 1.0, batch_size: int = 64,
                        seed: int = 0, progress: bool = True) -> SeparabilityResult:
    """Linear separability of attributes in a generator's z or w space.

    Parameters
    ----------
    generator : Generator or StyleGAN network
        See :func:`genmetrics_nb.generators.check_generator`.
    classifier : AttributeClassifier
        Labels the generated images (e.g. :func:`genmetrics_nb.zoo.load_classifier`).
    num_samples : int
        Images generated; 200 000 in the paper.
    num_keep : int, optional
        Most confident samples kept per attribute; default ``num_samples // 2``
        (100 000 in the paper).
    keep : {"most-confident", "per-label"}
        How samples are kept per attribute: the reference's global
        confidence ranking, or the same share of each predicted label (for
        unbalanced one-vs-rest attributes); see :func:`separability_from_latents`.
    space : {"w", "z"}
        Latents the SVM sees. For StyleGAN networks w is the last of the
        broadcast ``ws`` (as the reference code).
    psi : float
        Truncation of w (1 = none; the paper used none).
    batch_size : int
    seed : int
        Seed of the latents and the SVM.
    progress : bool

    Returns
    -------
    SeparabilityResult
        ``.value`` is the separability; ``.entropies`` the per-attribute bits.

    References
    ----------
    T. Karras, S. Laine, T. Aila, "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, Sec. 4.2; reference code
    https://github.com/NVlabs/stylegan (``metrics/linear_separability.py``).
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.generators.adapters import check_generator
    from genmetrics_nb.generators.protocol import check_psi

    gen = check_generator(generator)
    if not isinstance(classifier, AttributeClassifier):
        raise TypeError(
            f"classifier must be an AttributeClassifier (wrap your network with "
            f"genmetrics_nb.metrics.generator.separability.AttributeClassifier), got {type(classifier).__name__}"
        )
    check_choice(space, name="space", choices=("w", "z"))
    check_choice(keep, name="keep", choices=_KEEPS)
    if space == "w" and not gen.has_mapping:
        raise ValueError(f"space='w' needs a mapping network and generator {gen.name!r} has none; use space='z'")
    num_samples = check_int(num_samples, name="num_samples", minimum=4, hint="the paper uses 200_000")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    psi = check_psi(psi, gen)
    num_keep = num_samples // 2 if num_keep is None else check_int(num_keep, name="num_keep", minimum=2)
    if num_keep > num_samples:
        raise ValueError(f"num_keep must be at most num_samples={num_samples}, got {num_keep}")

    rng_z, rng_noise = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(2))
    lat, probs = [], []
    with torch.no_grad():
        for start in tqdm(range(0, int(num_samples), int(batch_size)), disable=not progress,
                          desc=f"separability {space}", unit="batch"):
            b = min(int(batch_size), int(num_samples) - start)
            z = gen.sample_z(b, rng=rng_z)
            gen.randomize_noise(rng=rng_noise)
            w = gen.mapping(z, psi=psi) if gen.has_mapping else z
            img = gen.synthesis(w)
            logits = classifier.logits(img, gen.value_range)
            lat.append((gen.w_features(w) if space == "w" else z).float().cpu().numpy())
            probs.append(attribute_probabilities(logits.cpu(), classifier.kind))
    ent = separability_from_latents(
        np.concatenate(lat), np.concatenate(probs), attributes=classifier.attributes, num_keep=int(num_keep),
        keep=keep, seed=int(seed),
    )
    return SeparabilityResult(
        value=float(2.0 ** sum(ent.values())), entropies=ent, space=space, psi=psi,
        num_samples=int(num_samples), num_keep=int(num_keep), keep=keep, classifier=classifier.name,
    )
