"""Literal transcription of dgm-eval's Vendi and sliced-Wasserstein code (reference for tests only).

Repository: https://github.com/layer6ai-labs/dgm-eval
Commit:     74c79f7527fbf38fdccfbac51f25d759bc02ab07 (2025-03-03)
Files:      dgm_eval/metrics/vendi.py (compute_vendi_score, entropy_q,
            compute_per_class_vendi_scores; the tqdm bar dropped)
            dgm_eval/metrics/sw.py (sw_approx)
License:    MIT (layer6ai-labs/dgm-eval)

Copied as published; do not "fix" it: the tests compare genmetrics_nb against
exactly this code.
"""
from numpy import linalg
from sklearn import preprocessing
from sklearn.metrics.pairwise import polynomial_kernel
import scipy
import scipy.linalg
import numpy as np


# --- dgm_eval/metrics/vendi.py ---------------------------------------------------
def compute_vendi_score(X, q=1, normalize=True, kernel='linear'):
    if normalize:
        X = preprocessing.normalize(X, axis=1)
    n = X.shape[0]
    if kernel == 'linear':
        S = X @ X.T
    elif kernel == 'polynomial':
        S = polynomial_kernel(X, degree=3, gamma=None, coef0=1)  # currently hardcoding kernel params to match KID
    else:
        raise NotImplementedError("kernel not implemented")
    # print('similarity matrix of shape {}'.format(S.shape))
    w = scipy.linalg.eigvalsh(S / n)
    return np.exp(entropy_q(w, q=q))

def entropy_q(p, q=1):
    p_ = p[p > 0]
    if q == 1:
        return -(p_ * np.log(p_)).sum()
    if q == "inf":
        return -np.log(np.max(p))
    return np.log((p_ ** q).sum()) / (1 - q)

def compute_per_class_vendi_scores(reps, labels):
    num_classes = len(np.unique(labels))
    vendi_per_class = np.zeros(shape=num_classes)
    for i in range(num_classes):
        reps_class = reps[labels==i]
        vendi_per_class[i] = compute_vendi_score(reps_class)
    return vendi_per_class


# --- dgm_eval/metrics/sw.py ------------------------------------------------------
def sw_approx(X, Y):
    '''Approximate Sliced W2 without
    Monte Carlo From https://arxiv.org/pdf/2106.15427.pdf'''
    d = X.shape[1]
    mean_X = X.mean(axis=0)
    mean_Y = Y.mean(axis=0)
    mean_term = linalg.norm(mean_X - mean_Y) ** 2 / d
    m2_Xc = (linalg.norm(X - mean_X, axis=1) ** 2).mean() / d
    m2_Yc = (linalg.norm(Y - mean_Y, axis=1) ** 2).mean() / d
    approx_sw = (mean_term + (m2_Xc ** (1 / 2) - m2_Yc ** (1 / 2)) ** 2) ** (1/2)
    return approx_sw
