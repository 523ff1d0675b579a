"""Reference-statistics files of other tools, written as each tool writes them, read and written back.

Where the peer is installed its own code writes or reads the file (pytorch-fid's
``save_fid_stats`` and ``compute_statistics_of_path``, clean-fid's
``make_custom_stats`` and ``get_reference_statistics``) with the network
replaced by fixed features, so that the file format and the moments are the
peer's. Tools that are not installable here (NVlabs/edm, NVlabs/edm2,
openai/guided-diffusion's evaluator, dgm-eval) are reproduced line for line
from their source, cited at each writer. The moments are checked against
``np.mean`` / ``np.cov`` (the definition every one of them uses).
"""
from __future__ import annotations

import pickle
import warnings
import zipfile

import numpy as np
import pytest

from genmetrics_nb import FeatureStats
from genmetrics_nb.sources.stats_files import detect_format, save_dgm_eval_reps


def _feats(n=120, d=6, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 3.0).astype(dtype)


def _moments(x):
    x = np.asarray(x, dtype=np.float64)
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def _compressed(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: i.compress_type != zipfile.ZIP_STORED for i in zf.infolist()}


# ----------------------------------------------------------------------------
# pytorch-fid
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_pytorch_fid_save_fid_stats_file(tmp_path, monkeypatch):
    from pytorch_fid import fid_score

    x = _feats()

    class Net:  # stands in for the InceptionV3 that save_fid_stats builds
        BLOCK_INDEX_BY_DIM = {6: 3}

        def __init__(self, blocks):
            pass

        def to(self, device):
            return self

    monkeypatch.setattr(fid_score, "InceptionV3", Net)
    monkeypatch.setattr(fid_score, "get_activations", lambda *a, **k: x)
    (tmp_path / "imgs").mkdir()
    out = tmp_path / "ref.npz"
    fid_score.save_fid_stats([str(tmp_path / "imgs"), str(out)], 10, "cpu", 6)  # its own np.savez_compressed

    assert detect_format(out) == "pytorch-fid"
    s = FeatureStats.load(out)
    mu, sigma = _moments(x)
    np.testing.assert_array_equal(s.mu, mu)  # calculate_activation_statistics: np.mean, np.cov
    np.testing.assert_array_equal(s.sigma, sigma)
    assert s.meta["import_format"] == "pytorch-fid" and s.n == 0
    # written back in pytorch-fid's format: pytorch-fid reads it, and it is its container
    back = s.save(tmp_path / "back.npz", format="pytorch-fid")
    m2, s2 = fid_score.compute_statistics_of_path(str(back), None, 1, 6, "cpu", 0)
    np.testing.assert_array_equal(m2, mu)
    np.testing.assert_array_equal(s2, sigma)
    assert _compressed(back) == _compressed(out) == {"mu.npy": True, "sigma.npy": True}


# ----------------------------------------------------------------------------
# clean-fid
# ----------------------------------------------------------------------------
@pytest.fixture
def cleanfid_home(tmp_path, monkeypatch):
    """clean-fid keeps statistics in os.path.dirname(cleanfid.__file__)/stats: point it at tmp_path."""
    import cleanfid

    monkeypatch.setattr(cleanfid, "__file__", str(tmp_path / "cleanfid" / "__init__.py"))
    return tmp_path / "cleanfid" / "stats"


@pytest.mark.reference
def test_clean_fid_make_custom_stats_files(tmp_path, monkeypatch, cleanfid_home):
    import cleanfid.fid as cf

    x = _feats(dtype=np.float32)  # clean-fid's features are float32
    monkeypatch.setattr(cf, "build_feature_extractor", lambda mode, device: None)
    monkeypatch.setattr(cf, "get_folder_features", lambda *a, **k: x)
    cf.make_custom_stats("mydata", str(tmp_path), mode="legacy_pytorch", device="cpu", verbose=False)
    fid_file = cleanfid_home / "mydata_legacy_pytorch_custom_na.npz"
    kid_file = cleanfid_home / "mydata_legacy_pytorch_custom_na_kid.npz"

    assert detect_format(fid_file) == "clean-fid" and detect_format(kid_file) == "clean-fid-kid"
    s = FeatureStats.load(fid_file)
    np.testing.assert_array_equal(s.mu, np.mean(x, axis=0))  # float32 mean, as clean-fid stores it
    np.testing.assert_array_equal(s.sigma, np.cov(x, rowvar=False))
    assert s.meta["protocol_inferred"] == {"resize_mode": "legacy_pytorch"}  # from clean-fid's file name
    k = FeatureStats.load(kid_file)  # the KID file keeps the features: summed into full statistics
    mu, sigma = _moments(x)
    assert k.n == len(x)
    np.testing.assert_allclose(k.mu, mu, rtol=1e-13)
    np.testing.assert_allclose(k.sigma, sigma, rtol=1e-11, atol=1e-13)

    # written back in clean-fid's format: clean-fid's own reader finds and reads it
    from cleanfid.features import get_reference_statistics

    s.save(cleanfid_home / "again_clean_custom_na.npz", format="clean-fid")
    m2, s2 = get_reference_statistics("again", None, mode="clean", split="custom")
    np.testing.assert_array_equal(m2, s.mu)
    np.testing.assert_array_equal(s2, s.sigma)
    assert FeatureStats.load(cleanfid_home / "again_clean_custom_na.npz").meta["protocol_inferred"][
        "resize_mode"] == "clean"


# ----------------------------------------------------------------------------
# NVlabs/edm
# ----------------------------------------------------------------------------
def _edm_moments(x):
    """NVlabs/edm fid.py calculate_inception_stats: float64 sums, then
    mu /= n; sigma -= outer(mu, mu) * n; sigma /= n - 1."""
    import torch

    f = torch.as_tensor(x, dtype=torch.float64)
    mu = f.sum(0)
    sigma = f.T @ f
    mu /= len(f)
    sigma -= mu.ger(mu) * len(f)
    sigma /= len(f) - 1
    return mu.numpy(), sigma.numpy()


@pytest.mark.reference
def test_edm_ref_file(tmp_path):
    x = _feats(seed=3)
    mu, sigma = _edm_moments(x)
    dest = tmp_path / "cifar10-32x32.npz"
    np.savez(dest, mu=mu, sigma=sigma)  # edm fid.py ref: np.savez(dest_path, mu=mu, sigma=sigma)

    assert detect_format(dest) == "edm"  # uncompressed, unlike pytorch-fid's and clean-fid's
    s = FeatureStats.load(dest)
    rm, rs = _moments(x)
    np.testing.assert_allclose(s.mu, rm, rtol=1e-13)
    np.testing.assert_allclose(s.sigma, rs, rtol=1e-9, atol=1e-12)
    assert s.meta["protocol_inferred"] == {}  # 6-d: nothing to infer
    back = s.save(tmp_path / "back.npz", format="edm")
    ref = dict(np.load(back))  # edm fid.py calc: ref = dict(np.load(f)); ref['mu'], ref['sigma']
    assert set(ref) == {"mu", "sigma"} and _compressed(back) == {"mu.npy": False, "sigma.npy": False}
    np.testing.assert_array_equal(ref["mu"], mu)
    np.testing.assert_array_equal(ref["sigma"], sigma)


# ----------------------------------------------------------------------------
# NVlabs/edm2
# ----------------------------------------------------------------------------
def _edm2_stats(xs: dict) -> dict:
    """NVlabs/edm2 calculate_metrics.py calculate_stats_for_iterable: r.stats."""
    n = len(next(iter(xs.values())))
    stats = dict(num_images=n)
    for metric, x in xs.items():
        mu, sigma = _edm_moments(x)  # same float64 sums
        stats[metric] = dict(mu=mu, sigma=sigma)
    return stats


@pytest.mark.reference
@pytest.mark.parametrize("protocol", [pickle.DEFAULT_PROTOCOL, 2, 5])
def test_edm2_ref_pickle(tmp_path, protocol):
    xi, xd = _feats(seed=4), _feats(d=5, seed=5)
    ref = tmp_path / "img512.pkl"
    with open(ref, "wb") as f:  # edm2 calculate_metrics.py save_stats: pickle.dump(stats, f)
        pickle.dump(_edm2_stats({"fid": xi, "fd_dinov2": xd}), f, protocol=protocol)

    assert detect_format(ref) == "edm2"
    s = FeatureStats.load(ref)  # default: the FID statistics
    np.testing.assert_allclose(s.mu, _moments(xi)[0], rtol=1e-13)
    np.testing.assert_allclose(s.sigma, _moments(xi)[1], rtol=1e-9, atol=1e-12)
    assert s.n == len(xi) and s.meta["protocol_inferred"] == {"extractor": "inception-v3-fid", "output": "pool"}
    d = FeatureStats.load(ref, output="fd_dinov2")
    np.testing.assert_allclose(d.sigma, _moments(xd)[1], rtol=1e-9, atol=1e-12)
    assert d.meta["protocol_inferred"] == {"extractor": "dinov2-vit-l14", "output": "cls"}
    with pytest.raises(ValueError, match=r"has statistics for \['fd_dinov2', 'fid'\], not 'clip'"):
        FeatureStats.load(ref, output="clip")
    with pytest.raises(ValueError, match="has no mu_s/sigma_s; sFID needs the spatial statistics"):
        FeatureStats.load(ref, output="spatial")

    out = tmp_path / "back.pkl"
    s.save(out, format="edm2", key="fid", others={"fd_dinov2": d})
    with open(out, "rb") as f:  # edm2 load_stats: pickle.load(f)
        got = pickle.load(f)
    assert list(got) == ["num_images", "fid", "fd_dinov2"] and got["num_images"] == len(xi)
    assert all(set(v) == {"mu", "sigma"} for k, v in got.items() if k != "num_images")
    np.testing.assert_array_equal(got["fid"]["sigma"], s.sigma)
    np.testing.assert_array_equal(got["fd_dinov2"]["mu"], d.mu)


def test_statistics_pickles_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps({"fid": {"mu": Evil(), "sigma": np.eye(2)}}))
    with pytest.raises(ValueError, match="is not an EDM2 statistics pickle.*io.open is not allowed"):
        FeatureStats.load(bad)
    assert not marker.exists()


@pytest.mark.reference
def test_edm2_pickle_is_a_source_for_fid(tmp_path):
    from pytorch_fid.fid_score import calculate_frechet_distance

    import genmetrics_nb as gm

    xi, y = _feats(seed=6), _feats(seed=7) + 0.5
    ref = tmp_path / "ref.pkl"
    with open(ref, "wb") as f:
        pickle.dump(_edm2_stats({"fid": xi}), f)
    r = gm.fid(str(ref), y, device="cpu", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=) in pytorch-fid
        want = calculate_frechet_distance(*_moments(xi), *_moments(y))
    assert r.value == pytest.approx(want, rel=1e-9)


# ----------------------------------------------------------------------------
# openai/guided-diffusion (ADM) evaluator reference batches
# ----------------------------------------------------------------------------
def _adm_read_statistics(path):
    """guided-diffusion evaluations/evaluator.py Evaluator.read_statistics, when "mu" is present."""
    obj = np.load(path)
    return (obj["mu"], obj["sigma"]), (obj["mu_s"], obj["sigma_s"])


@pytest.mark.reference
def test_adm_reference_batch(tmp_path, monkeypatch):
    rng = np.random.default_rng(8)
    pool, spatial = _feats(seed=9), _feats(d=7, seed=10)
    images = rng.integers(0, 256, size=(4, 8, 8, 3), dtype=np.uint8)
    ref = tmp_path / "VIRTUAL_tiny_labeled.npz"
    # The reference batches hold images (arr_0, N x H x W x 3 uint8) and the moments the
    # evaluator reads back: mu, sigma (pool_3) and mu_s, sigma_s (mixed_6/conv[..., :7]).
    np.savez(ref, arr_0=images, mu=_moments(pool)[0], sigma=_moments(pool)[1],
             mu_s=_moments(spatial)[0], sigma_s=_moments(spatial)[1])

    assert detect_format(ref) == "adm"
    read = []  # the images (2 GB in a real reference batch) are not read to get the moments
    getitem = np.lib.npyio.NpzFile.__getitem__
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", lambda z, k: read.append(k) or getitem(z, k))
    p = FeatureStats.load(ref)
    sp = FeatureStats.load(ref, output="spatial")
    assert read == ["mu", "sigma", "mu_s", "sigma_s"]
    monkeypatch.undo()
    np.testing.assert_array_equal(p.sigma, _moments(pool)[1])
    np.testing.assert_array_equal(sp.mu, _moments(spatial)[0])
    assert p.meta["protocol_inferred"]["output"] == "pool" and sp.meta["protocol_inferred"]["output"] == "spatial"
    with pytest.raises(ValueError, match="holds 'pool'.*and 'spatial'.*output='logits' is neither"):
        FeatureStats.load(ref, output="logits")

    out = p.save(tmp_path / "back.npz", format="adm", spatial=sp, images=images)
    (bm, bs), (bms, bss) = _adm_read_statistics(out)
    np.testing.assert_array_equal(bm, p.mu)
    np.testing.assert_array_equal(bss, sp.sigma)
    with zipfile.ZipFile(out) as zf:  # the evaluator's _open_npy_file(path, "arr_0")
        assert "arr_0.npy" in zf.namelist()
    np.testing.assert_array_equal(np.load(out)["arr_0"], images)
    with pytest.raises(ValueError, match="format='adm' needs spatial="):
        p.save(tmp_path / "nospatial.npz", format="adm")
    with pytest.raises(ValueError, match="images must be N x H x W x 3 uint8"):
        p.save(tmp_path / "badimages.npz", format="adm", spatial=sp, images=images.transpose(0, 3, 1, 2))


def test_adm_sample_batch_without_statistics_says_to_compute_them(tmp_path):
    images = np.zeros((3, 8, 8, 3), dtype=np.uint8)
    batch = tmp_path / "samples_3x8x8x3.npz"
    np.savez(batch, images, np.arange(3))  # guided-diffusion image_sample.py: np.savez(out_path, arr, label_arr)
    assert detect_format(batch) == "adm"
    with pytest.raises(ValueError, match="batch of images .arr_0. without statistics: its statistics must be "
                                         "computed from its images"):
        FeatureStats.load(batch)
    with pytest.raises(ValueError, match=r"output='spatial'"):
        FeatureStats.load(batch, output="spatial")


def test_sfid_statistics_from_a_file_with_only_mu_sigma_say_what_is_missing(tmp_path):
    x = _feats()
    np.savez_compressed(tmp_path / "ref.npz", mu=_moments(x)[0], sigma=_moments(x)[1])
    with pytest.raises(ValueError, match=r"has no mu_s/sigma_s; sFID needs the spatial statistics; compute them "
                                         r"from the images .*output='spatial'"):
        FeatureStats.load(tmp_path / "ref.npz", output="spatial")
    with pytest.raises(ValueError, match=r"has no mu_s/sigma_s; sFID needs the spatial statistics"):
        FeatureStats.load(tmp_path / "ref.npz", format="adm", output="spatial")
    # the same from a genmetrics-nb file of the pool output
    s = FeatureStats.from_features(x, meta={"extractor": "inception-v3-fid", "output": "pool"})
    s.save(tmp_path / "pool.npz")
    with pytest.raises(ValueError, match="holds statistics of output 'pool', not output='spatial'; it has no "
                                         "mu_s/sigma_s: sFID needs the spatial statistics"):
        FeatureStats.load(tmp_path / "pool.npz", output="spatial")
    assert FeatureStats.load(tmp_path / "pool.npz", output="pool").n == len(x)


# ----------------------------------------------------------------------------
# layer6ai-labs/dgm-eval
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_dgm_eval_saved_representations(tmp_path):
    reps = _feats(seed=11)
    out_path = tmp_path / "reps_cifar10_dinov2_nimage-120_train"
    hparams = {"nimages": 120, "batch_size": 50, "dataset_name": "cifar10", "train_set": True}
    # dgm_eval/representations.py save_outputs: np.savez(out_path, model=model, reps=reps, hparams=hyperparams)
    np.savez(out_path, model="dinov2", reps=reps, hparams=hparams)
    path = tmp_path / "reps_cifar10_dinov2_nimage-120_train.npz"

    assert detect_format(path) == "dgm-eval"
    s = FeatureStats.load(path)  # features summed into statistics (hparams, a pickle, is not read)
    mu, sigma = _moments(reps)
    assert s.n == 120 and s.meta["dgm_eval_model"] == "dinov2"
    assert s.meta["protocol_inferred"] == {"extractor": "dinov2-vit-l14", "output": "cls"}
    np.testing.assert_allclose(s.mu, mu, rtol=1e-13)
    np.testing.assert_allclose(s.sigma, sigma, rtol=1e-11, atol=1e-13)
    with pytest.raises(ValueError, match="format='dgm-eval' files hold per-sample features.*save_dgm_eval_reps"):
        s.save(tmp_path / "x.npz", format="dgm-eval")

    mine = save_dgm_eval_reps(tmp_path / "mine.npz", reps.astype(np.float32), model="inception")
    # dgm_eval/representations.py load_reps_from_path: np.load(f'{save_path}.npz')['reps']
    np.testing.assert_array_equal(np.load(mine)["reps"], reps.astype(np.float32).astype(np.float64))
    assert FeatureStats.load(mine).meta["protocol_inferred"] == {"extractor": "inception-v3-fid"}  # 6-d: no output


# ----------------------------------------------------------------------------
# every format: save -> load round trip, and explicit formats that do not fit
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt,name", [("genmetrics", "s.npz"), ("pytorch-fid", "s.npz"),
                                      ("clean-fid", "s.npz"), ("edm", "s.npz"), ("adm", "s.npz"),
                                      ("edm2", "s.pkl")])
def test_save_load_round_trip(tmp_path, fmt, name):
    x = _feats(seed=12)
    s = FeatureStats.from_features(x, meta={"extractor": "inception-v3-fid", "output": "pool"})
    opts = {"adm": {"spatial": FeatureStats.from_features(_feats(d=3, seed=13))}}.get(fmt, {})
    path = s.save(tmp_path / name, format=fmt, **opts)
    assert detect_format(path) == ("pytorch-fid" if fmt == "clean-fid" else fmt)  # name is not clean-fid's
    t = FeatureStats.load(path, format=fmt)
    np.testing.assert_array_equal(t.mu, s.mu)
    np.testing.assert_array_equal(t.sigma, s.sigma)
    if fmt == "genmetrics":
        assert t.meta == s.meta and t.n == s.n
    else:  # foreign files carry no protocol: what is known is inferred at best
        assert "extractor" not in t.meta and t.protocol["weights_sha256"] == "unknown"
        assert t.meta["import_format"] == fmt


def test_explicit_formats_that_do_not_fit_the_file(tmp_path):
    x = _feats()
    np.savez_compressed(tmp_path / "ref.npz", mu=_moments(x)[0], sigma=_moments(x)[1])
    with pytest.raises(ValueError, match=r"read as format='dgm-eval' has no reps \(it holds \['mu', 'sigma'\]\)"):
        FeatureStats.load(tmp_path / "ref.npz", format="dgm-eval")
    with pytest.raises(ValueError, match="has no mu/sigma"):
        np.savez(tmp_path / "only_s.npz", mu_s=np.zeros(2), sigma_s=np.eye(2))
        FeatureStats.load(tmp_path / "only_s.npz")
    with pytest.raises(ValueError, match="format must be one of 'genmetrics', 'pytorch-fid'"):
        FeatureStats.load(tmp_path / "ref.npz", format="ttur")
    with pytest.raises(ValueError, match="output='logits' is not in it"):
        FeatureStats.load(tmp_path / "ref.npz", output="logits")
    with pytest.raises(ValueError, match="pytorch-fid file, which has no sha256 member, but require_checksum=True"):
        FeatureStats.load(tmp_path / "ref.npz", require_checksum=True)
    s = FeatureStats.load(tmp_path / "ref.npz")
    with pytest.raises(ValueError, match="key= applies to format='edm2' only"):
        s.save(tmp_path / "a.npz", format="pytorch-fid", key="fid")
    with pytest.raises(ValueError, match=r"path must end in \.pkl for format='edm2'"):
        s.save(tmp_path / "a.npz", format="edm2", key="fid")
    with pytest.raises(ValueError, match=r"do not say how many images .*set stats.n = N"):
        s.save(tmp_path / "a.pkl", format="edm2", key="fid")
    with pytest.raises(ValueError, match="key= is needed for format='edm2'"):
        FeatureStats.from_features(x).save(tmp_path / "a.pkl", format="edm2")
    np.savez(tmp_path / "junk.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="expected FeatureStats.save output"):
        FeatureStats.load(tmp_path / "junk.npz")
