"""Literal transcription of the Rarity Score reference code (reference for tests only).

Repository: https://github.com/hichoe95/Rarity-Score
Commit:     ec2ebd84619f4485ceecf2f02bfac071270c55bf (2022-08-05)
Files:      src/rarity_score.py (class MANIFOLD, verbatim; its imports of the unused
            sklearn KMeans and of compute_pairwise_distances are replaced by the
            definition below)
            src/improved_precision_recall.py (compute_pairwise_distances, the
            torch version MANIFOLD imports, with its cuda_empty decorator;
            torch.cuda.empty_cache does nothing without CUDA)
License:    NAVER Corp. (BSD-style, see the repository's README) / MIT (Youngjung)

Copied as published (tabs turned into 4 spaces, print calls kept, the misspelt
'euclidian' kept); do not "fix" it.
"""
import numpy as np
import torch


# --- src/improved_precision_recall.py -------------------------------------------
def cuda_empty(func):
    def wrapper(*args, **kwargs):
        ret = func(*args, **kwargs)
        torch.cuda.empty_cache()
        return ret
    return wrapper


@torch.no_grad()
@cuda_empty
def compute_pairwise_distances(X, Y=None, metric = 'euclidian', device = 'cpu'):

    X = torch.from_numpy(X).to(device)

    if Y is not None:
        Y = torch.from_numpy(Y).to(device).type(torch.float64)

    if metric == 'euclidian':
        num_X = X.shape[0]
        if Y is None:
            num_Y = num_X
        else:
            num_Y = Y.shape[0]
        X = X.type(torch.float64)  # to prevent underflow
        X_norm_square = torch.sum(X**2, dim=1, keepdims=True)
        if Y is None:
            Y_norm_square = X_norm_square
        else:
            Y_norm_square = torch.sum(Y**2, dim=1, keepdims=True)

        torch.cuda.empty_cache()
        # X_square = torch.repeat(X_norm_square, num_Y, dim=1)
        X_square = X_norm_square.expand(-1,num_Y)
        # Y_square = torch.repeat(Y_norm_square.T, num_X, dim=0)
        Y_square = Y_norm_square.T.expand(num_X, -1)
        torch.cuda.empty_cache()

        if Y is None:
            Y = X
        XY = torch.matmul(X, Y.T)
        diff_square = X_square - 2*XY + Y_square

        # check negative distance
        min_diff_square = diff_square.min()
        torch.cuda.empty_cache()
        if min_diff_square < 0:
            idx = diff_square < 0
            diff_square[idx] = 0
            print('WARNING: %d negative diff_squares found and set to zero, min_diff_square=' % idx.sum(),
                  min_diff_square)

        distances = torch.sqrt(diff_square).detach().cpu()

    elif metric == 'cossim':
        X = X.type(torch.float64)
        X = (X.T / torch.linalg.norm(X, dim = 1)).T

        if Y is None:
            Y = X.T
        else:
            Y = Y.T / torch.linalg.norm(Y, dim = 1)

        distances = (-(1 + X@Y)).detach().cpu()

    return distances


# --- src/rarity_score.py ------------------------------------------------------
class MANIFOLD(object):
    @torch.no_grad()
    def __init__(self, real_features, fake_features, metric = 'euclidian', device = 'cpu'):

        self.metric = metric
        self.device = device

        self.real_features = real_features
        self.fake_features = fake_features

        self.num_reals = real_features.shape[0]
        self.num_fakes = fake_features.shape[0]

        print('Pre-processing pairwise diatances ...')
        self.real2real_distances = compute_pairwise_distances(real_features, metric = self.metric, device = self.device)

        # self.real2real_sorted = np.sort(self.real2real_distances, axis = 1)
        # self.real2real_sorted_ids = self.real2real_distances.argsort(axis = 1)
        self.real2real_sorted = self.real2real_distances.sort(dim = 1)[0].detach().cpu().numpy()
        self.real2real_sorted_ids = self.real2real_distances.argsort(dim = 1).detach().cpu().numpy()

        torch.cuda.empty_cache()

        # for clustering
        self.num_cluster = 0
        self.modes = None
        self.sample_mode_ids = None

        print('Initialization is DONE !')

    def is_in_ball(self, k = 3, samples = None, cluster = False):
        """ Compute the differences between radii of kNN balls and distances
            for judging whether they are in each kNN ball or not.

            args:
                k (int): real ball's size is distance between reference real sample
                         and k th nearest real sample.
                samples (np.array, num_samples * embed_dim): embedded generation samples
            return:
                dist_radi (np.array, num_reals * num_samples): each element means
                         (radii of a ball - (distance between center of the ball and a sample)).
                         if it is larger than 0, it is out of the ball.
                r (np.array, num_reals * 1): radii of each kNN real balls
                out_ball_ids (np.array, num_out_ball_samples): indices of samples outside of balls.
        """
        if not cluster:
            real2samples_distances = compute_pairwise_distances(self.real_features, samples, metric = self.metric, device = self.device)
        else:
            real2samples_distances = compute_pairwise_distances(self.modes, samples, metric = self.metric, device = self.device)
        real2samples_distances = real2samples_distances.detach().cpu().numpy()

        r = self.real2real_sorted[:,k] if not cluster else self.mode2mode_sorted[:,k]

        dist_radi = (r[:,None].repeat(samples.shape[0], axis = 1) - real2samples_distances)
        out_ball_ids = np.where((dist_radi > 0).any(axis = 0) == False)[0]

        return dist_radi, r, out_ball_ids

    def rarity(self, k = 3, samples = None):
        """ The larger the real ball's size, the rare the real sample would be.

            args:
                k (int): real ball's size is distance between reference real sample
                         and k th nearest real sample.
                samples (np.array, N * embed_dim): embedded generation samples
            return:
                scores (np.array, num_samples): scores of each samples which are not sorted.
                scores_ids (np.array, num_samples_in_valid_ball): for samples in valid real balls,
                      sorted indices in decreasing order.
        """

        samples = self.fake_features if samples is None else samples
        in_ball_dist, r, out_ball_ids = self.is_in_ball(samples = samples, k = k)

        num_out_ball = len(out_ball_ids)
        valid_real_balls = (in_ball_dist>0)

        scores = np.zeros(samples.shape[0])

        for i in range(samples.shape[0]):
            if i not in out_ball_ids:
                scores[i] = r[valid_real_balls[:,i]].min()

        scores_ids = (-scores).argsort()[:samples.shape[0] - num_out_ball]

        return scores, scores_ids

