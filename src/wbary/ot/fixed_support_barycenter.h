// File: wbary/ot/fixed_support_barycenter.h
//
// Entropic barycenter of histograms on one shared, fixed support (Benamou et
// al. 2015, iterative Bregman projections), with a dense cost between the
// support points: POT's ot.bregman.barycenter(method="sinkhorn_log"), whose
// iterates it reproduces (POT's other methods are wrong with non-uniform
// weights, POT PR #870). epsilon is POT's reg: K = exp(-M / eps).
//
// Example:
//   ot::FixedSupportBarycenter solver({.epsilon = 1e-2});
//   ot::BregmanResult r = solver.solve({h1, h2}, M, {0.3, 0.7});   // r.barycenter [n]
#pragma once

#include "wbary/ot/bregman_barycenter.h"

namespace wbary::ot {

/// Entropic strength, iteration cap and tolerance of the fixed-support barycenter.
struct FixedSupportConfig {
  double epsilon = 1e-2;          ///< POT's reg
  int64_t max_iterations = 1000;  ///< POT's numItermax default
  double tolerance = 1e-4;        ///< POT's stopThr default
};

/// Entropic barycenters of histograms on one shared support (Benamou et al. 2015).
class FixedSupportBarycenter {
 public:
  /// A solver with this config.
  explicit FixedSupportBarycenter(FixedSupportConfig config = {});
  /// histograms: [n] each (>= 0, normalised here); cost: [n, n]; weights
  /// empty = uniform (normalised). Throws InvalidArgument naming the input.
  BregmanResult solve(const std::vector<at::Tensor>& histograms, const at::Tensor& cost,
                      std::vector<double> weights = {}) const;

 private:
  FixedSupportConfig config_;
};

}  // namespace wbary::ot
