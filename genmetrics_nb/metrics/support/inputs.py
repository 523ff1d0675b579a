"""Sources to feature tensors for the support and memorisation metrics (the one place they resolve inputs).

Every public function of ``genmetrics_nb.metrics.support`` and
``genmetrics_nb.metrics.memorisation`` takes its sets the way
:func:`genmetrics_nb.precision_recall` does: images run through
``extractor=`` (folders, files, ``N x C x H x W`` arrays, dataset names) or
``N x D`` features. These two helpers are the only calls into the source
resolver, so that a change of its import touches one file.
"""
from __future__ import annotations

from genmetrics_nb.features.inputs import check_compatible, features_of, features_pair
from genmetrics_nb.util.checks import as_feature_tensor, check_same_dim

__all__ = ["three_sets", "two_sets"]


def two_sets(a, b, *, metric: str, names=("real", "fake"), min_rows: int = 1, **options):
    """Both sources as feature tensors of one protocol (as ``precision_recall`` resolves them).

    ``options`` are ``extractor``, ``output``, ``batch_size``, ``device``,
    ``value_range``, ``cache``, ``progress``.

    Returns
    -------
    x, y : torch.Tensor
    protocol : dict
        :func:`genmetrics_nb.features.inputs.features_pair`'s shared provenance.
    """
    fa, fb, proto = features_pair(a, b, metric=metric, names=names, **options)
    x = as_feature_tensor(fa, name=names[0], min_rows=min_rows)
    y = as_feature_tensor(fb, name=names[1], min_rows=min_rows)
    check_same_dim(x, y, name_a=names[0], name_b=names[1])
    return x, y, proto


def three_sets(a, b, c, *, metric: str, names=("train", "test", "generated"), min_rows: int = 1,
               **options):
    """Three sources (training, held-out, generated) as feature tensors of one protocol.

    The first and third go through ``features_pair``; the held-out set is
    resolved alone and checked against the training set's protocol.
    """
    fa, fc, proto = features_pair(a, c, metric=metric, names=(names[0], names[2]), **options)
    fb, p_b = features_of(b, name=names[1], metric=metric, **options)
    check_compatible(proto, p_b, names=(names[0], names[1]), metric=metric)
    x = as_feature_tensor(fa, name=names[0], min_rows=min_rows)
    y = as_feature_tensor(fb, name=names[1], min_rows=min_rows)
    z = as_feature_tensor(fc, name=names[2], min_rows=min_rows)
    check_same_dim(x, y, name_a=names[0], name_b=names[1])
    check_same_dim(x, z, name_a=names[0], name_b=names[2])
    return x, y, z, proto
