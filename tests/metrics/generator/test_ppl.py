"""Perceptual path length: closed forms on linear generators, and equality with torchmetrics / torch-fidelity."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy import integrate, optimize, stats

from genmetrics_nb.generators import ModuleGenerator
from genmetrics_nb.metrics.generator.ppl import path_distances, ppl, slerp, trimmed_mean

K = 8  # latent size of the linear generators


def _orthonormal_generator(*, mapping):
    """G(w) = A w as a 1 x 4 x 4 image, A (16 x K) with orthonormal columns, so ||A v|| = ||v||."""
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((16, 16)))
    a = torch.tensor(q[:, :K], dtype=torch.float64)

    def net(w):
        return (w.double() @ a.T).view(-1, 1, 4, 4)

    return ModuleGenerator(net, z_dim=K, value_range=(-1, 1), mapping=(lambda z: z) if mapping else None,
                           device="cpu")


def squared_l2(x, y):
    return ((x - y) ** 2).sum(dim=(1, 2, 3))


N = 20_000


@pytest.mark.reference
def test_w_space_closed_form():
    # In w, lerp steps by epsilon * (w1 - w0), so d / epsilon^2 = ||w1 - w0||^2 ~ 2 chi2_K exactly.
    gen = _orthonormal_generator(mapping=True)
    full = ppl(gen, space="w", num_samples=N, distance=squared_l2, percentiles=None, batch_size=5000, progress=False)
    sd = np.sqrt(stats.chi2.var(K) * 4 / N)  # standard error of the mean of 2 chi2_K
    assert full.value == pytest.approx(2 * K, abs=4 * sd)
    # The 1-99 percentile cut: E[X | q01 <= X <= q99] = K (F_{K+2}(b) - F_{K+2}(a)) / 0.98 for X ~ chi2_K.
    cut = ppl(gen, space="w", num_samples=N, distance=squared_l2, batch_size=5000, progress=False)
    a, b = stats.chi2.ppf([0.01, 0.99], K)
    expect = 2 * K * (stats.chi2.cdf(b, K + 2) - stats.chi2.cdf(a, K + 2)) / 0.98
    assert cut.value == pytest.approx(expect, abs=4 * sd)
    assert cut.num_kept == pytest.approx(0.98 * N, abs=3)


@pytest.mark.reference
@pytest.mark.parametrize("sampling", ["end", "full"])
def test_z_space_closed_form(sampling):
    # slerp moves along the unit sphere at speed theta = angle(z0, z1), so with an isometric
    # generator d / epsilon^2 -> theta^2, wherever t is. The angle between two independent
    # isotropic Gaussian vectors in K dims has density proportional to sin^(K-2).
    gen = _orthonormal_generator(mapping=False)
    r = ppl(gen, space="z", sampling=sampling, num_samples=N, distance=squared_l2, percentiles=None,
            epsilon=1e-3, batch_size=5000, progress=False)

    def f(th):
        return np.sin(th) ** (K - 2)

    z = integrate.quad(f, 0, np.pi)[0]
    m1 = integrate.quad(lambda th: th**2 * f(th), 0, np.pi)[0] / z
    m2 = integrate.quad(lambda th: th**4 * f(th), 0, np.pi)[0] / z
    se = np.sqrt((m2 - m1**2) / N)
    assert r.value == pytest.approx(m1, abs=4 * se)

    def cdf(x):
        return integrate.quad(f, 0, x)[0] / z

    lo = optimize.brentq(lambda x: cdf(x) - 0.01, 0, np.pi)
    hi = optimize.brentq(lambda x: cdf(x) - 0.99, 0, np.pi)
    expect = integrate.quad(lambda th: th**2 * f(th), lo, hi)[0] / z / 0.98
    cut = ppl(gen, space="z", sampling=sampling, num_samples=N, distance=squared_l2, epsilon=1e-3,
              batch_size=5000, progress=False)
    assert cut.value == pytest.approx(expect, abs=4 * se)


def test_slerp_stays_on_the_sphere_at_constant_speed():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 6, generator=g, dtype=torch.float64), torch.randn(5, 6, generator=g, dtype=torch.float64)
    au, bu = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    angle = torch.acos((au * bu).sum(1))
    torch.testing.assert_close(slerp(a, b, torch.zeros(5, dtype=torch.float64)), au)
    torch.testing.assert_close(slerp(a, b, torch.ones(5, dtype=torch.float64)), bu)
    mid = slerp(a, b, torch.full((5,), 0.3, dtype=torch.float64))
    torch.testing.assert_close(mid.norm(dim=1), torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(torch.acos((au * mid).sum(1)), 0.3 * angle)


def test_trimmed_mean_follows_stylegan_percentiles():
    # Hand computation: for 1..1000, numpy's 1st percentile with method="lower" is 10 and the
    # 99th with method="higher" is 991 (StyleGAN's cut); the mean of 10..991 is 500.5.
    mean, std, kept = trimmed_mean(np.arange(1, 1001, dtype=float))
    assert (mean, kept) == (500.5, 982)
    assert std == pytest.approx(np.arange(10, 992).std())
    assert trimmed_mean([1.0, 2.0, 3.0], None)[0] == 2.0


def _small_generator():
    torch.manual_seed(0)  # only the weights of this throwaway test network
    net = torch.nn.Sequential(
        torch.nn.Linear(16, 3 * 8 * 8), torch.nn.Unflatten(1, (3, 8, 8)), torch.nn.Upsample(scale_factor=4),
        torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.Tanh(),
    ).eval()
    return net, ModuleGenerator(net, z_dim=16, value_range=(-1, 1), mapping=torch.nn.Identity(), device="cpu")


def _soft_distance(x, y):
    # A smooth, non-trivial perceptual-style distance (no network weights needed).
    f = torch.nn.functional.avg_pool2d
    return sum(((f(x, s) - f(y, s)) ** 2).mean(dim=(1, 2, 3)) for s in (1, 2, 4))


@pytest.mark.reference
def test_matches_torchmetrics():
    # torchmetrics interpolates whatever forward() takes, at t = 0, with lerp: our w-space "end".
    from torchmetrics.functional.image.perceptual_path_length import perceptual_path_length

    net, gen = _small_generator()
    n, eps = 64, 1e-2
    g = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(n, 16, generator=g), torch.randn(n, 16, generator=g)

    class Peer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.queue = net, [z0, z1]

        def forward(self, z):  # torchmetrics wants images in [0, 255]
            return (self.net(z) + 1) * 127.5

        def sample(self, num):
            return self.queue.pop(0)

    class Sim(torch.nn.Module):
        def forward(self, a, b):
            return _soft_distance(a, b)

    _, _, theirs = perceptual_path_length(Peer(), num_samples=n, batch_size=16, epsilon=eps, lower_discard=None,
                                          upper_discard=None, sim_net=Sim(), interpolation_method="lerp")
    ours = path_distances(gen, z0, z1, torch.zeros(n), space="w", epsilon=eps, distance=_soft_distance)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4)


@pytest.fixture(scope="module")
def fidelity_similarity():
    import torch_fidelity
    from torch_fidelity.sample_similarity_base import SampleSimilarityBase

    class Soft(SampleSimilarityBase):
        def __init__(self, name, **kwargs):
            super().__init__(name)

        def forward(self, a, b):
            if a.dtype == torch.uint8:  # torch-fidelity's default: images rounded to uint8
                a, b = a.float() / 127.5 - 1, b.float() / 127.5 - 1
            return _soft_distance(a, b)

    name = "genmetrics-test-soft"
    if name not in torch_fidelity.registry.SAMPLE_SIMILARITY_REGISTRY:
        torch_fidelity.register_sample_similarity(name, Soft)
    return name


@pytest.mark.reference
@pytest.mark.parametrize("uint8", [False, True])
def test_matches_torch_fidelity(fidelity_similarity, uint8):
    # torch-fidelity draws z with numpy.random.RandomState(rng_seed) and lerps at t = 0: our w-space
    # "end" on the same latents. With uint8=True its model returns rounded uint8 images, which is
    # what round_to_uint8=True reproduces. Its percentile cut calls numpy.percentile(interpolation=...),
    # removed in NumPy 2, so we compare the raw per-pair values (reduction="none", no cut).
    import torch_fidelity
    from torch_fidelity.generative_model_modulewrapper import GenerativeModelModuleWrapper

    net, gen = _small_generator()
    n, eps, seed = 64, 1e-2, 7

    class U8(torch.nn.Module):
        def forward(self, z):
            return torch.round((net(z).clamp(-1, 1) + 1) * 127.5).to(torch.uint8)

    module = U8() if uint8 else net
    res = torch_fidelity.calculate_metrics(
        input1=GenerativeModelModuleWrapper(module, 16, "normal", 0), input1_model_num_samples=n, ppl=True,
        ppl_sample_similarity=fidelity_similarity, ppl_epsilon=eps, ppl_z_interp_mode="lerp",
        ppl_reduction="none", ppl_discard_percentile_lower=None, ppl_discard_percentile_higher=None,
        cuda=False, verbose=False, batch_size=16, rng_seed=seed,
    )
    rs = np.random.RandomState(seed)
    e0 = torch.from_numpy(rs.randn(n, 16)).float()
    e1 = torch.from_numpy(rs.randn(n, 16)).float()
    ours = path_distances(gen, e0, e1, torch.zeros(n), space="w", epsilon=eps, distance=_soft_distance,
                          round_to_uint8=uint8)
    np.testing.assert_allclose(ours.numpy(), res["perceptual_path_length_raw"], rtol=1e-4, atol=1e-9)


def test_uint8_rounding_inflates_ppl():
    # With epsilon = 1e-4 the true image change is far below one 8-bit level.
    _, gen = _small_generator()
    exact = ppl(gen, num_samples=64, distance=_soft_distance, progress=False)
    rounded = ppl(gen, num_samples=64, distance=_soft_distance, round_to_uint8=True, progress=False)
    assert rounded.value > 10 * exact.value


def test_seed_and_batch_size():
    # Latents come from split-invariant NumPy streams, so batching does not change them (an
    # element-wise generator gives bit-equal values; convolutions may differ by float noise).
    gen = _orthonormal_generator(mapping=True)
    a = ppl(gen, num_samples=40, distance=squared_l2, batch_size=40, sampling="full", progress=False)
    b = ppl(gen, num_samples=40, distance=squared_l2, batch_size=7, sampling="full", progress=False)
    c = ppl(gen, num_samples=40, distance=squared_l2, seed=1, sampling="full", progress=False)
    np.testing.assert_array_equal(a.distances, b.distances)
    assert not np.allclose(a.distances, c.distances)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["space"] == "w" and d["percentiles"] == [1.0, 99.0] and "distances" not in d
    assert "PPL (w, full)" in str(a)


def test_truncation_shrinks_w_space_ppl():
    # Linear generator with w_avg = 0: truncation scales w by psi, so PPL in w scales by psi^2.
    q = _orthonormal_generator(mapping=True)
    gen = ModuleGenerator(q.module, z_dim=K, value_range=(-1, 1), mapping=lambda z: z, w_avg=torch.zeros(K),
                          device="cpu")
    one = ppl(gen, num_samples=200, distance=squared_l2, percentiles=None, progress=False)
    half = ppl(gen, num_samples=200, distance=squared_l2, percentiles=None, psi=0.5, progress=False)
    assert half.value == pytest.approx(0.25 * one.value, rel=1e-4)  # float32 latents


def test_bad_arguments():
    no_map = _orthonormal_generator(mapping=False)
    with pytest.raises(ValueError, match="use space='z'"):
        ppl(no_map, space="w", distance=squared_l2, num_samples=4)
    with pytest.raises(ValueError, match="psi=1.0"):
        ppl(no_map, space="z", psi=0.7, distance=squared_l2, num_samples=4)
    gen = _orthonormal_generator(mapping=True)
    with pytest.raises(ValueError, match="space must be"):
        ppl(gen, space="x", distance=squared_l2)
    with pytest.raises(ValueError, match="sampling must be"):
        ppl(gen, sampling="mid", distance=squared_l2)
    with pytest.raises(ValueError, match="epsilon must be"):
        ppl(gen, epsilon=0, distance=squared_l2)
    with pytest.raises(ValueError, match="num_samples must be"):
        ppl(gen, num_samples=1, distance=squared_l2)
    with pytest.raises(ValueError, match="percentiles must satisfy"):
        ppl(gen, percentiles=(99, 1), distance=squared_l2)
    with pytest.raises(ValueError, match="distance must be one of"):
        ppl(gen, distance="lpips-resnet")
    with pytest.raises(ValueError, match="build the LPIPS object with resize"):
        ppl(gen, distance=squared_l2, resize=64)
    with pytest.raises(TypeError, match="ModuleGenerator"):
        ppl(torch.nn.Linear(3, 3), distance=squared_l2)
    with pytest.raises(ValueError, match="without w_avg"):
        ppl(gen, psi=0.5, distance=squared_l2, num_samples=4, progress=False)
