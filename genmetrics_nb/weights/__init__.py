"""Offline-first pretrained weights: a manifest of checkpoints with sha256.

``gm.weights.path(name)`` resolves an explicit path, then the cache
(``$GENMETRICS_HOME``, default ``~/.cache/genmetrics_nb``), then a download
(unless ``GENMETRICS_OFFLINE=1``), always verifying the sha256. See
:mod:`genmetrics_nb.weights.manager` and :mod:`genmetrics_nb.weights.manifest`.
Nothing here imports torch until a checkpoint is loaded.
"""
from genmetrics_nb.weights.manager import (
    WeightsError,
    WeightsNotFoundError,
    cache_dir,
    fetch,
    home,
    import_file,
    is_offline,
    list_weights,
    load_state_dict,
    path,
    register,
    sha256_file,
    verify,
)
from genmetrics_nb.weights.manifest import BUILTIN, WeightsEntry, get_entry, load_manifest

__all__ = [
    "BUILTIN",
    "WeightsEntry",
    "WeightsError",
    "WeightsNotFoundError",
    "cache_dir",
    "fetch",
    "get_entry",
    "home",
    "import_file",
    "is_offline",
    "list_weights",
    "load_manifest",
    "load_state_dict",
    "path",
    "register",
    "sha256_file",
    "verify",
]
