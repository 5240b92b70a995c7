// File: wbary/metrics/gaussian.h
//
// Gaussian (Bures-Wasserstein) geometry: empirical moments, PSD square
// roots, the closed-form W2 distance and optimal map between Gaussians,
// and the BW2-UVP metric of the NWB paper (Fan et al. 2021, eq. 11;
// Korotin et al. 2021, §5). All computations are in float64.
//
// Example:
//   data::GaussianMoments fit = metrics::empirical_moments(samples);  // ddof = 1, like np.cov
//   double uvp = metrics::bw2_uvp(fit, exact);                         // percent
#pragma once

#include "wbary/data/sampler.h"

namespace wbary::metrics {

/// Mean and unbiased covariance (ddof = 1, as np.cov) of samples [n, d].
data::GaussianMoments empirical_moments(const at::Tensor& samples);

/// Symmetric PSD square root by eigendecomposition (negative eigenvalues
/// from round-off are clamped to 0).
at::Tensor sqrtm_psd(const at::Tensor& s);

/// Full W2^2 between Gaussians: |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S2^1/2 S1 S2^1/2)^1/2.
double bures_wasserstein_squared(const data::GaussianMoments& p, const data::GaussianMoments& q);

/// BW2-UVP in percent (eq. 11): 100 * W2^2(N(p), N(q)) / tr Sigma_q, with
/// q the exact (reference) law.
double bw2_uvp(const data::GaussianMoments& estimate, const data::GaussianMoments& reference);

/// BW2-UVP of the Gaussian fit of `samples` [n, d].
double bw2_uvp(const at::Tensor& samples, const data::GaussianMoments& reference);

/// The optimal (Brenier) map between Gaussians, T(x) = m_q + A (x - m_p),
/// A = S_p^{-1/2} (S_p^{1/2} S_q S_p^{1/2})^{1/2} S_p^{-1/2}; returns A.
at::Tensor gaussian_map_matrix(const at::Tensor& cov_from, const at::Tensor& cov_to);

}  // namespace wbary::metrics
