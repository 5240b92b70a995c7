// File: wbary/barycenter/gaussian_barycenter.h
//
// The exact W2 barycenter of Gaussians N(m_i, S_i) with weights a_i: a
// Gaussian with mean sum_i a_i m_i and the covariance S solving
// S = sum_i a_i (S^1/2 S_i S^1/2)^1/2 (Fan et al. 2021, §2.2), found by the
// fixed point of Alvarez-Esteban et al. (2016, Th. 4.2):
//   S <- S^{-1/2} (sum_i a_i (S^{1/2} S_i S^{1/2})^{1/2})^2 S^{-1/2},
// started from the identity and stopped when |S_{k+1} - S_k|_F^2 <= tol
// (the authors' compare_dist_results.py).
//
// Example:
//   barycenter::GaussianBarycenter solver;          // default config
//   auto r = solver.solve({g1, g2, g3}, {1/3., 1/3., 1/3.});
//   if (!r.converged) ...;  r.barycenter.covariance
#pragma once

#include <vector>

#include "wbary/data/sampler.h"

namespace wbary::barycenter {

/// Stopping rule of the Gaussian fixed point.
struct GaussianBarycenterConfig {
  int64_t max_iterations = 1000;  ///< ample: convergence is linear, ~20-60 iterations at d = 256
  double tolerance = 1e-10;       ///< on |S_{k+1} - S_k|_F^2 (compare_dist_results.py)
};

/// The barycenter N(mean, covariance) and how the fixed point ended.
struct GaussianBarycenterResult {
  data::GaussianMoments barycenter;  ///< mean and covariance of the barycenter
  bool converged = false;  ///< Whether the stopping rule was met before the iteration cap.
  int64_t iterations = 0;  ///< Iterations run.
  std::vector<double> error_trace;  ///< |S_{k+1} - S_k|_F^2 per iteration
};

/// The exact W2 barycenter of Gaussians by the fixed point of Alvarez-Esteban et al. (2016).
class GaussianBarycenter {
 public:
  /// A solver with this stopping rule.
  explicit GaussianBarycenter(GaussianBarycenterConfig config = {});

  /// Throws InvalidArgument if the weights are not a probability vector of
  /// the same length as `marginals`, or the dimensions differ.
  GaussianBarycenterResult solve(const std::vector<data::GaussianMoments>& marginals,
                                 const std::vector<double>& weights) const;

 private:
  GaussianBarycenterConfig config_;
};

/// Checks a_i >= 0, finite, and |sum a_i - 1| <= 1e-6; the message names the
/// offending entry. `what` prefixes it (e.g. "--weights").
void validate_weights(const std::vector<double>& weights, size_t expected_count, const std::string& what);

}  // namespace wbary::barycenter
