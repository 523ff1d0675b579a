"""Linear separability: entropy against scipy/sklearn, and generators whose answer is known."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.stats import entropy
from sklearn.metrics import mutual_info_score

from genmetrics_nb.generators import ModuleGenerator
from genmetrics_nb.metrics.generator.separability import (
    AttributeClassifier,
    attribute_probabilities,
    conditional_entropy,
    linear_separability,
    separability_from_latents,
)

Z = 4  # latent size (the image is the latent as 2 x 2 pixels)


@pytest.mark.reference
def test_conditional_entropy_matches_scipy_and_sklearn():
    # H(Y | X) = H(Y) - I(X; Y); scipy's entropy and sklearn's mutual information are in nats.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, 500)
    y = np.where(rng.random(500) < 0.8, x, 1 - x)
    expect = (entropy(np.bincount(y) / 500) - mutual_info_score(x, y)) / np.log(2)
    assert conditional_entropy(x, y) == pytest.approx(expect, abs=1e-12)
    assert conditional_entropy(x, x) == pytest.approx(0.0, abs=1e-12)
    # Independent balanced labels: one full bit is left.
    assert conditional_entropy(np.tile([0, 0, 1, 1], 50), np.tile([0, 1, 0, 1], 50)) == pytest.approx(1.0)


def test_attribute_probabilities():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    p = attribute_probabilities(logits, "multiclass")
    np.testing.assert_allclose(p, torch.softmax(logits.double(), 1).numpy())
    # StyleGAN: softmax([l, -l])[0] = sigmoid(2 l).
    b = attribute_probabilities(logits, "binary")
    np.testing.assert_allclose(b[0], [np.exp(2) / (np.exp(2) + np.exp(-2)), 0.5, 1 / (1 + np.exp(2))])


def _latent_image_generator(mapping=None):
    """The image is the latent itself (one row of pixels), so a classifier can read z or w."""
    def net(w):
        return torch.tanh(w).view(-1, 1, 2, 2)

    return ModuleGenerator(net, z_dim=Z, value_range=(-1, 1), mapping=mapping, device="cpu")


def _classifier(rule, n_attr):
    """Binary logits from the decoded latent: ``rule(latent) -> N x n_attr`` booleans."""
    def module(img):
        v = torch.atanh(img.view(img.shape[0], Z).clamp(-0.999999, 0.999999))
        return torch.where(rule(v), 5.0, -5.0)

    return AttributeClassifier(module, attributes=[f"a{i}" for i in range(n_attr)], kind="binary",
                               value_range=(-1, 1), name="rule")


@pytest.mark.reference
def test_separable_attributes_give_score_one():
    # Attributes are signs of latent coordinates: a hyperplane in z separates each exactly. The
    # SVM is regularised (C = 1, as the reference), so a few samples right at the boundary may
    # land on the wrong side: 0.1 bit is about 1% of errors.
    gen = _latent_image_generator()
    clf = _classifier(lambda v: v[:, :3] > 0, 3)
    r = linear_separability(gen, clf, num_samples=2000, space="z", progress=False)
    assert max(r.entropies.values()) < 0.1
    assert 1.0 <= r.value < 1.25
    assert r.num_keep == 1000


@pytest.mark.reference
def test_unpredictable_attribute_leaves_one_bit():
    # The label is a fine-grained stripe pattern of z0 (frac(40 z0) > 0.5): no hyperplane predicts it,
    # so H(Y | SVM) stays near H(Y) = 1 bit and the score near 2.
    gen = _latent_image_generator()
    clf = _classifier(lambda v: (torch.frac(40 * v[:, :1].abs()) > 0.5), 1)
    r = linear_separability(gen, clf, num_samples=2000, space="z", progress=False)
    assert r.entropies["a0"] > 0.9
    assert 1.85 < r.value <= 2.0 + 1e-9


def test_w_can_be_more_separable_than_z():
    # Attribute "|z0| > 0.6745" (median of |N(0,1)|) is not linear in z, but is in w = z^2.
    gen = _latent_image_generator(mapping=lambda z: z**2)
    clf = _classifier(lambda v: v[:, :1] > 0.6745**2, 1)
    z = linear_separability(gen, clf, num_samples=2000, space="z", progress=False)
    w = linear_separability(gen, clf, num_samples=2000, space="w", progress=False)
    assert w.entropies["a0"] < 0.1 < 0.5 < z.entropies["a0"]
    assert w.value < z.value
    d = json.loads(json.dumps(w.to_dict()))
    assert d["space"] == "w" and set(d["entropies"]) == {"a0"}
    assert "linear separability (w)" in str(w)


def test_only_the_most_confident_half_is_kept():
    # Half of the samples carry random labels at probability 0.5 +- 0.01 (unconfident); the other
    # half a separable label at 0.99. Keeping the confident half removes the noise entirely.
    rng = np.random.default_rng(0)
    lat = rng.standard_normal((400, 3))
    p = np.where(lat[:, 0] > 0, 0.99, 0.01)
    p[:200] = 0.5 + rng.choice([-0.01, 0.01], 200)
    kept = separability_from_latents(lat, p[:, None], num_keep=200)
    everything = separability_from_latents(lat, p[:, None], num_keep=400)
    assert kept["0"] < 0.02 < 0.3 < everything["0"]


def test_per_label_keep_for_rare_attributes():
    # A 10 % attribute, separable along z0 (positives: z0 > 1.2816, the 90 % quantile). The
    # classifier is surer of negatives (p = 0.001) than of positives (p = 0.95), so the reference's
    # global ranking keeps negatives only and reports a trivial 0 bits; "per-label" keeps half of each.
    rng = np.random.default_rng(0)
    lat = rng.standard_normal((2000, 3))
    p = np.where(lat[:, 0] > 1.2816, 0.95, 0.001)[:, None]
    flip = rng.random(2000) < 0.3  # 30 % of labels random: not separable any more
    p[flip, 0] = np.where(rng.random(flip.sum()) < 0.1, 0.95, 0.001)
    ref = separability_from_latents(lat, p, keep="most-confident")["0"]
    per = separability_from_latents(lat, p, keep="per-label")["0"]
    assert ref == 0.0 < 0.1 < per
    with pytest.raises(ValueError, match="keep must be one of"):
        separability_from_latents(lat, p, keep="balanced")


def test_single_class_counts_as_perfect():
    # As the reference code: if the kept samples hold one class, the SVM cannot be fitted.
    lat = np.random.default_rng(0).standard_normal((20, 2))
    assert separability_from_latents(lat, np.full((20, 1), 0.9))["0"] == 0.0


def test_bad_arguments():
    gen = _latent_image_generator()
    clf = _classifier(lambda v: v[:, :1] > 0, 1)
    with pytest.raises(TypeError, match="AttributeClassifier"):
        linear_separability(gen, lambda x: x, num_samples=10)
    with pytest.raises(ValueError, match="use space='z'"):
        linear_separability(gen, clf, num_samples=10, space="w")
    with pytest.raises(ValueError, match="num_keep must be"):
        linear_separability(gen, clf, num_samples=10, num_keep=11, space="z")
    with pytest.raises(ValueError, match="num_samples must be"):
        linear_separability(gen, clf, num_samples=2, space="z")
    wrong = AttributeClassifier(lambda x: torch.zeros(x.shape[0], 3), attributes=["a"], kind="binary")
    with pytest.raises(ValueError, match="one logit per attribute"):
        linear_separability(gen, wrong, num_samples=10, space="z", progress=False)
    with pytest.raises(ValueError, match="kind must be"):
        AttributeClassifier(lambda x: x, attributes=["a"], kind="softmax")
    with pytest.raises(ValueError, match="binary labels"):
        conditional_entropy(np.array([0, 2]), np.array([0, 1]))
