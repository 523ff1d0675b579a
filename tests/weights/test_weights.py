"""The weight manager: manifest, offline resolution, sha256 checks, downloads, CLI.

The published checkpoints cannot be downloaded here; the loading path is
exercised with random-weight files in each publisher's exact format
(``install_fake_weights``) and downloads with local ``file://`` URLs.
"""
from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path

import pytest

import genmetrics_nb as gm
from genmetrics_nb.weights.manifest import BUILTIN
from genmetrics_nb.testing.weights import install_fake_weights


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GENMETRICS_MANIFEST", raising=False)
    monkeypatch.setenv("GENMETRICS_OFFLINE", "1")
    return tmp_path / "home"


def _write_manifest(path, entries):
    path.write_text(json.dumps(entries))
    return str(path)


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------
# manifest
# ----------------------------------------------------------------------------
def test_manifest_has_required_entries_with_consistent_digests():
    # The issue lists these six files; torchvision / pytorch-fid put the first
    # hex digits of the sha256 into the file name, so name, prefix and full
    # digest must agree.
    required = {
        "pt_inception-2015-12-05": "pt_inception-2015-12-05-6726825d.pth",
        "inception_v3_google": "inception_v3_google-0cc3c7bd.pth",
        "vgg16": "vgg16-397923af.pth",
        "alexnet": "alexnet-owt-7be5be79.pth",
        "squeezenet1_1": "squeezenet1_1-b8a52dc0.pth",
        "fcn_resnet50_coco": "fcn_resnet50_coco-1167a1af.pth",
    }
    for name, filename in required.items():
        e = BUILTIN[name]
        assert e.filename == filename
        assert e.url.endswith(filename)
        assert e.sha256_prefix and e.sha256_prefix in filename
        if e.sha256 is not None:
            assert e.sha256.startswith(e.sha256_prefix) and len(e.sha256) == 64
        assert e.license and e.description and e.format


def test_manifest_override_rejects_unknown_fields(home, tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_MANIFEST", _write_manifest(tmp_path / "m.json", {"vgg16": {"sha": "00"}}))
    with pytest.raises(ValueError, match="unknown field"):
        gm.weights.list_weights()


def test_manifest_override_missing_file(home, monkeypatch):
    monkeypatch.setenv("GENMETRICS_MANIFEST", "/nonexistent/manifest.json")
    with pytest.raises(ValueError, match="does not exist"):
        gm.weights.path("vgg16")


def test_unknown_name_lists_known():
    with pytest.raises(ValueError, match="known: .*vgg16"):
        gm.weights.path("vgg17")


def test_register_refuses_duplicates_and_bad_digests():
    with pytest.raises(ValueError, match="already in the manifest"):
        gm.weights.register("vgg16", filename="x.pth", url="file:///x", sha256="0" * 64)
    with pytest.raises(ValueError, match="64 hex digits"):
        gm.weights.register("my-net-bad", filename="x.pth", url="file:///x", sha256="abc")


# ----------------------------------------------------------------------------
# resolution
# ----------------------------------------------------------------------------
def test_missing_offline_error_says_how_to_fix(home):
    e = BUILTIN["pt_inception-2015-12-05"]
    with pytest.raises(gm.weights.WeightsNotFoundError) as info:
        gm.weights.path("pt_inception-2015-12-05")
    msg = str(info.value)
    assert e.filename in msg and e.url in msg and e.sha256 in msg
    assert "genmetrics-nb weights import pt_inception-2015-12-05" in msg


# PyTorch state dicts; the Keras HDF5 file is checked against Keras in tests/extractors/test_keras_inception.py,
# DINOv2's official checkpoints (up to 4.5 GB) in tests/extractors/test_dinov2.py.
@pytest.mark.parametrize("name", sorted(n for n in BUILTIN if BUILTIN[n].filename.endswith(".pth")
                                        and not n.startswith("dinov2_")))
def test_fake_weights_have_publisher_format(name, tmp_path, monkeypatch):
    """Each fake file loads into the publisher's own constructor (strict)."""
    import torchvision

    for k, v in install_fake_weights([name], tmp_path / "h").items():
        monkeypatch.setenv(k, v)
    state = gm.weights.load_state_dict(name)
    assert gm.weights.path(name).name == BUILTIN[name].filename
    # References: the constructors the publishers used to write these files.
    if name == "pt_inception-2015-12-05":
        import pytorch_fid.inception as pfi

        monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: state)
        ref = pfi.fid_inception_v3()  # loads `state` strictly
    elif name == "inception_v3_google":
        ref = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    elif name == "fcn_resnet50_coco":
        ref = torchvision.models.segmentation.fcn_resnet50(
            weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    else:
        ref = getattr(torchvision.models, name)(weights=None)
    ref.load_state_dict(state, strict=True)
    assert {k: tuple(v.shape) for k, v in ref.state_dict().items()} == {
        k: tuple(v.shape) for k, v in state.items()
    }
    # Random, not default-initialised: no all-zero weight tensors.
    assert all(float(v.float().abs().sum()) > 0 for k, v in state.items() if k.endswith("weight"))


def test_explicit_path_is_verified(home, tmp_path, monkeypatch):
    env = install_fake_weights(["squeezenet1_1"], tmp_path / "fake")
    monkeypatch.setenv("GENMETRICS_MANIFEST", env["GENMETRICS_MANIFEST"])
    good = Path(env["GENMETRICS_HOME"]) / "weights" / "squeezenet1_1-b8a52dc0.pth"
    assert gm.weights.path("squeezenet1_1", path=good) == good
    bad = tmp_path / "other.pth"
    bad.write_bytes(b"not the checkpoint")
    with pytest.raises(gm.weights.WeightsError, match="not the published"):
        gm.weights.path("squeezenet1_1", path=bad)


def test_corrupt_cached_file_is_reported_not_used(home, tmp_path, monkeypatch):
    env = install_fake_weights(["squeezenet1_1"], tmp_path / "fake")
    monkeypatch.setenv("GENMETRICS_MANIFEST", env["GENMETRICS_MANIFEST"])
    src = Path(env["GENMETRICS_HOME"]) / "weights" / "squeezenet1_1-b8a52dc0.pth"
    cached = home / "weights" / src.name
    cached.parent.mkdir(parents=True)
    data = src.read_bytes()
    cached.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one flipped bit
    with pytest.raises(gm.weights.WeightsError, match="was not used"):
        gm.weights.path("squeezenet1_1")
    cached.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(gm.weights.WeightsError, match="truncated"):
        gm.weights.path("squeezenet1_1")
    rows = {r["name"]: r["status"] for r in gm.weights.verify(["squeezenet1_1"])}
    assert rows == {"squeezenet1_1": "corrupt"}


# ----------------------------------------------------------------------------
# downloads (file:// URLs)
# ----------------------------------------------------------------------------
def _local_entry(tmp_path, monkeypatch, *, payload=b"checkpoint bytes " * 50000, sha=None, prefix=None):
    src = tmp_path / "server" / "net-1234.pth"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    entry = {"filename": "net-1234.pth", "url": src.as_uri(),
             "sha256": digest if sha is None else sha, "size": len(payload)}
    if prefix is not None:
        entry.update(sha256=None, sha256_prefix=prefix)
    monkeypatch.setenv("GENMETRICS_MANIFEST", _write_manifest(tmp_path / "m.json", {"local-net": entry}))
    return src, digest


def _no_leftovers(folder):
    return [p.name for p in Path(folder).iterdir() if p.name.startswith(".")] if Path(folder).exists() else []


def test_download_from_file_url(home, tmp_path, monkeypatch):
    src, digest = _local_entry(tmp_path, monkeypatch)
    with pytest.raises(gm.weights.WeightsNotFoundError, match="downloading is off"):
        gm.weights.path("local-net")  # offline by default in this fixture
    p = gm.weights.path("local-net", download=True)
    assert p == home / "weights" / "net-1234.pth"
    assert _sha(p) == digest
    assert _no_leftovers(p.parent) == []


def test_download_with_wrong_digest_leaves_nothing(home, tmp_path, monkeypatch):
    _local_entry(tmp_path, monkeypatch, sha="0" * 64)
    with pytest.raises(gm.weights.WeightsError, match="discarded"):
        gm.weights.path("local-net", download=True)
    folder = home / "weights"
    assert not (folder / "net-1234.pth").exists()
    assert _no_leftovers(folder) == []


def _broken_urlopen(monkeypatch, exc):
    """urlopen whose response dies after the first block with ``exc``."""
    real_urlopen = urllib.request.urlopen

    class Broken:
        def __init__(self, resp):
            self.resp, self.headers, self.calls = resp, resp.headers, 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise exc
            return self.resp.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *args):
            self.resp.close()

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Broken(real_urlopen(url)))


def test_interrupted_download_leaves_nothing(home, tmp_path, monkeypatch):
    _local_entry(tmp_path, monkeypatch)
    _broken_urlopen(monkeypatch, ConnectionResetError("connection lost"))
    with pytest.raises(gm.weights.WeightsNotFoundError, match="download failed"):
        gm.weights.path("local-net", download=True)
    folder = home / "weights"
    assert not (folder / "net-1234.pth").exists()
    assert _no_leftovers(folder) == []


def test_keyboard_interrupt_during_download_leaves_nothing(home, tmp_path, monkeypatch):
    _local_entry(tmp_path, monkeypatch)
    _broken_urlopen(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        gm.weights.fetch("local-net", progress=False)
    assert _no_leftovers(home / "weights") == []
    assert not (home / "weights" / "net-1234.pth").exists()


# ----------------------------------------------------------------------------
# import and trust-on-first-use
# ----------------------------------------------------------------------------
def test_import_verifies_then_copies(home, tmp_path, monkeypatch):
    src, digest = _local_entry(tmp_path, monkeypatch)
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"garbage")
    with pytest.raises(gm.weights.WeightsError):
        gm.weights.import_file("local-net", bad)
    assert not (home / "weights" / "net-1234.pth").exists()
    p = gm.weights.import_file("local-net", src)
    assert _sha(p) == digest and src.exists()
    assert gm.weights.path("local-net") == p


def test_prefix_only_entry_records_digest_on_first_import(home, tmp_path, monkeypatch):
    payload = b"prefix-only checkpoint " * 1000
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    src, digest = _local_entry(tmp_path, monkeypatch, payload=payload, prefix=prefix)
    p = gm.weights.import_file("local-net", src)
    recorded = json.loads((home / "weights" / "recorded-digests.json").read_text())
    assert recorded == {"net-1234.pth": digest}
    p.write_bytes(payload + b"x")  # later tampering is caught against the recorded digest
    with pytest.raises(gm.weights.WeightsError, match="recorded on first import"):
        gm.weights.path("local-net")


# ----------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------
def test_cli_list_import_verify(home, tmp_path, monkeypatch, capsys):
    from genmetrics_nb.cli import main

    src, digest = _local_entry(tmp_path, monkeypatch)
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "local-net" in out and "vgg16-397923af.pth" in out and "missing" in out
    assert main(["weights", "import", "local-net", str(src)]) == 0
    assert main(["weights", "verify", "local-net"]) == 0
    assert "local-net: ok" in capsys.readouterr().out
    (home / "weights" / "net-1234.pth").write_bytes(b"corrupted")
    assert main(["weights", "verify", "local-net"]) == 1
    assert main(["weights", "fetch", "vgg16-missing"]) == 2  # unknown name -> error exit
    assert "no weights called" in capsys.readouterr().err
