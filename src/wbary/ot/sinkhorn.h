// File: wbary/ot/sinkhorn.h
//
// Entropic optimal transport between discrete measures by Sinkhorn's
// iterations in the log domain (Cuturi 2013; the log-domain form of Peyre &
// Cuturi 2019, Rem. 4.23), stable down to small epsilon. Same updates and
// stopping rule as POT's ot.sinkhorn(method="sinkhorn_log"): epsilon is POT's
// reg (P = diag(u) exp(-C / eps) diag(v)); the right-marginal violation is
// checked every 10 iterations.
//
// Example:
//   ot::Sinkhorn solver({.epsilon = 1e-2});
//   ot::SinkhornResult r = solver.solve(a, b, C);
//   if (!r.converged) ...;   r.plan, r.cost, r.log_u, r.log_v
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace wbary::ot {

/// Entropic strength, iteration cap and tolerance of Sinkhorn.
struct SinkhornConfig {
  double epsilon = 1e-2;          ///< POT's reg
  int64_t max_iterations = 1000;  ///< POT's numItermax default
  double tolerance = 1e-9;        ///< on |P^T 1 - b|_2 (POT's stopThr default)
};

/// The entropic plan, its cost, the dual potentials and how the iterations ended.
struct SinkhornResult {
  at::Tensor plan;    ///< [n, m]
  double cost = 0;    ///< <P, C>, the transport part of the entropic objective
  at::Tensor log_u;   ///< [n]; the dual potential is f = eps * log_u
  at::Tensor log_v;   ///< [m]; g = eps * log_v
  bool converged = false;  ///< Whether the stopping rule was met before the iteration cap.
  int64_t iterations = 0;  ///< Iterations run.
  std::vector<double> error_trace;  ///< marginal violation every 10 iterations
};

/// Entropic OT between two histograms (Cuturi 2013), POT's sinkhorn_log iterates.
class Sinkhorn {
 public:
  /// Throws InvalidArgument if epsilon <= 0 or the iteration cap < 1.
  explicit Sinkhorn(SinkhornConfig config = {});
  /// a [n], b [m] (>= 0, normalised here), C [n, m]. Throws InvalidArgument
  /// on shape mismatch, negative/non-finite weights or costs, empty measures.
  SinkhornResult solve(const at::Tensor& a, const at::Tensor& b, const at::Tensor& cost) const;

 private:
  SinkhornConfig config_;
};

}  // namespace wbary::ot
