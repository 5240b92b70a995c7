// File: wbary/metrics/transport_map.h
//
// How close a fitted transport map T_hat is to the true one T* (Korotin et
// al. 2021, §4; reference/w2-maps.md §1.2), on source samples X:
//   L2-UVP = 100 E|T_hat(X) - T*(X)|^2 / Var(Q)    (percent; Var = sum of
//            per-coordinate variances of the target Q = T*#P)
//   cos    = E<T*(X) - X, T_hat(X) - X> / sqrt(E|T* - X|^2 E|T_hat - X|^2)
// and the linear baseline: the Gaussian OT map between the moment-matched
// Gaussians, the reference every benchmark result is reported beside.
//
// Example:
//   double uvp = metrics::l2_uvp(model.forward(x), pair.optimal_map(x), pair.target_variance());
#pragma once

#include <ATen/ATen.h>

namespace wbary::metrics {

/// Sum of the per-coordinate variances of samples [n, d] (ddof = 1).
double total_variance(const at::Tensor& samples);

/// L2-UVP in percent; predicted / truth [n, d].
double l2_uvp(const at::Tensor& predicted, const at::Tensor& truth, double target_variance);

/// Cosine similarity of the displacements T_hat(x) - x and T*(x) - x.
double displacement_cosine(const at::Tensor& x, const at::Tensor& predicted, const at::Tensor& truth);

/// The Gaussian OT map between the moment-matched Gaussians of `source`
/// and `target` samples: x -> m_q + A (x - m_p).
struct LinearMap {
  at::Tensor matrix;  ///< A [d, d], symmetric PSD
  at::Tensor shift;   ///< [d]: m_q - A m_p
  /// x A^T + shift for x [n, d].
  at::Tensor operator()(const at::Tensor& x) const { return at::addmm(shift, x.to(at::kDouble), matrix); }
};
LinearMap fit_linear_map(const at::Tensor& source, const at::Tensor& target);

}  // namespace wbary::metrics
