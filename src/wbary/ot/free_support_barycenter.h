// File: wbary/ot/free_support_barycenter.h
//
// The free-support Wasserstein barycenter of discrete measures (Cuturi &
// Doucet 2014, Alg. 2; POT's ot.lp.free_support_barycenter; the CDWB
// baseline of the NWB paper): k support points X with fixed weights b are
// moved, at every iteration, to the barycentric projection of the exact
// optimal plans to each input,
//   X <- sum_i lambda_i diag(1/b) T_i Y_i,
// until the squared displacement falls below the tolerance.
//
// Example:
//   ot::FreeSupportBarycenter solver({.max_iterations = 10});
//   ot::FreeSupportResult r = solver.solve({y1, y2}, {}, x_init);   // r.support [k, d]
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace wbary::ot {

/// Iterations and stopping rule of the free-support barycenter.
struct FreeSupportConfig {
  int64_t max_iterations = 100;  ///< POT's numItermax default
  double tolerance = 1e-7;       ///< on sum |X_{t+1} - X_t|^2 (POT's stopThr)
};

/// The barycenter's support points, its iterations and whether it converged.
struct FreeSupportResult {
  at::Tensor support;  ///< [k, d] float64
  bool converged = false;  ///< Whether the stopping rule was met before the iteration cap.
  int64_t iterations = 0;  ///< Iterations run.
  std::vector<double> displacement_trace;  ///< sum |X_{t+1} - X_t|^2 per iteration
  std::vector<int64_t> pivot_trace;        ///< simplex pivots per iteration, all inputs together
  bool certified = true;                   ///< every exact OT solve was certified optimal
};

/// Free-support barycenters of point clouds (Cuturi & Doucet 2014, Alg. 2) on exact OT.
class FreeSupportBarycenter {
 public:
  /// A solver with this config.
  explicit FreeSupportBarycenter(FreeSupportConfig config = {});

  /// clouds: Y_i [n_i, d]; cloud_weights: one [n_i] vector per cloud (empty:
  /// uniform); weights lambda_i (empty: uniform; normalised); init: X [k, d]
  /// with uniform support weights. Throws InvalidArgument on dimension
  /// mismatches, empty clouds or bad weights (naming the input).
  FreeSupportResult solve(const std::vector<at::Tensor>& clouds, const std::vector<at::Tensor>& cloud_weights,
                          const at::Tensor& init, std::vector<double> weights = {}) const;

 private:
  FreeSupportConfig config_;
};

}  // namespace wbary::ot
