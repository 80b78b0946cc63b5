"""Sample-quality measures, pure torch: FID, classifier Inception Score, class balance, Parzen window."""

import math

import torch

NUM_CLASSES = 10
DIGIT_SHARE = 0.02  # digit k "is drawn" when at least this share of the N samples are accepted digits labelled k


def feature_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and covariance (D, D) of features (N, D), in float64."""
    features = features.double()
    mean = features.mean(dim=0)
    centred = features - mean
    return mean, centred.T @ centred / (len(features) - 1)


def frechet_distance(mean_a: torch.Tensor, cov_a: torch.Tensor, mean_b: torch.Tensor, cov_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + tr(A) + tr(B) - 2 tr((A B)^1/2), with the root taken through eigh.

    tr((A B)^1/2) = tr((A^1/2 B A^1/2)^1/2), and A^1/2 B A^1/2 is symmetric PSD, so both roots come
    from symmetric eigen-decompositions (no scipy, no complex sqrtm).
    """
    mean_a, cov_a, mean_b, cov_b = (t.double() for t in (mean_a, cov_a, mean_b, cov_b))
    eigvals, eigvecs = torch.linalg.eigh(cov_a)
    root_a = (eigvecs * eigvals.clamp(min=0).sqrt()) @ eigvecs.T
    middle = root_a @ cov_b @ root_a
    middle = (middle + middle.T) / 2  # remove rounding asymmetry
    trace_root = torch.linalg.eigvalsh(middle).clamp(min=0).sqrt().sum()
    distance = (mean_a - mean_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * trace_root
    return float(distance.clamp(min=0))


def fid_from_features(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    return frechet_distance(*feature_stats(features_a), *feature_stats(features_b))


def inception_score(probs: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) over `splits` equal parts: (mean, std)."""
    probs = probs.double().clamp(min=1e-12)
    scores = []
    for part in probs.chunk(splits):
        marginal = part.mean(dim=0, keepdim=True)
        kl = (part * (part.log() - marginal.log())).sum(dim=1).mean()
        scores.append(kl.exp())
    scores = torch.stack(scores)
    return float(scores.mean()), float(scores.std(unbiased=False)) if len(scores) > 1 else 0.0


def class_histogram(labels: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Share of each class, (num_classes,) float64 summing to 1."""
    counts = torch.bincount(labels.long().flatten(), minlength=num_classes).double()
    return counts / counts.sum()


def drawn_histogram(labels: torch.Tensor, accepted: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Share of all N samples that the judge accepts as a digit and labels k, (num_classes,) float64; it sums to
    the accepted share (the rest is "not a digit")."""
    counts = torch.bincount(labels.long().flatten()[accepted.flatten()], minlength=num_classes).double()
    return counts / max(len(labels), 1)


def digits_drawn(histogram) -> list[int]:
    """The digits an epoch draws: those whose share of all samples (accepted ones only) is at least DIGIT_SHARE.
    The one rule behind every "digits drawn" figure (metrics.json, milestones, cards, Digits, Compare, Train)."""
    return [digit for digit, share in enumerate(histogram) if float(share) >= DIGIT_SHARE]


def kl_divergence(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-10) -> float:
    """KL(p || q) for histograms, with empty bins floored at eps so a missing class costs, not crashes."""
    p, q = p.double().clamp(min=eps), q.double().clamp(min=eps)
    p, q = p / p.sum(), q / q.sum()
    return float((p * (p / q).log()).sum())


def parzen_log_likelihood(samples: torch.Tensor, points: torch.Tensor, sigma: float, batch: int = 500) -> torch.Tensor:
    """log p(x) for each of `points` (M, D) under isotropic Gaussians of width sigma at `samples` (N, D)."""
    samples, points = samples.double(), points.double()
    count, dim = samples.shape
    norm = math.log(count) + dim / 2 * math.log(2 * math.pi * sigma**2)
    sample_sq = samples.square().sum(dim=1)
    out = []
    for chunk in points.split(batch):
        sq_dist = chunk.square().sum(dim=1, keepdim=True) - 2 * chunk @ samples.T + sample_sq  # (b, N)
        out.append(torch.logsumexp(-sq_dist.clamp(min=0) / (2 * sigma**2), dim=1) - norm)
    return torch.cat(out)


def choose_parzen_sigma(
    samples: torch.Tensor, validation: torch.Tensor, sigmas: torch.Tensor
) -> tuple[float, list[float]]:
    """The sigma (from `sigmas`) that gives the validation points the highest mean log-likelihood."""
    scores = [float(parzen_log_likelihood(samples, validation, float(sigma)).mean()) for sigma in sigmas]
    best = max(range(len(scores)), key=scores.__getitem__)
    return float(sigmas[best]), scores
