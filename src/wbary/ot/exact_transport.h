// File: wbary/ot/exact_transport.h
//
// Exact optimal transport between two discrete measures sum_i a_i delta_{x_i}
// and sum_j b_j delta_{y_j}: the linear program min <P, C> over couplings,
// solved by the network simplex method on the complete bipartite graph
// (ot/transport_simplex.h: LEMON's pivoting without per-arc storage, started
// from a north-west corner basis), and exact W2 between point clouds
// (C_ij = |x_i - y_j|^2), the metric that POT's ot.emd2 computes.
// exact_transport_lemon runs LEMON's own NetworkSimplex on the same problem:
// the independent reference of the tests and benchmarks.
//
// The simplex wants integer supplies: the weights are scaled to integers
// summing to exactly 2^40-ish (the factor is recorded; uniform weights are
// scaled without rounding), and the costs are kept in double, as POT's copy of
// LEMON does. The result is verified afterwards: the potentials must be dual
// feasible (reduced costs >= 0 up to round-off), which certifies optimality;
// the worst violation and the duality gap are reported.
//
// Example:
//   ot::ExactTransportResult r = ot::exact_w2(x, y);   // uniform weights
//   if (!r.optimal) ...;   r.cost is W2^2
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace wbary::ot {

class TransportSimplex;

/// One non-zero entry of a transport plan: source index, target index, mass.
struct PlanEntry {
  int64_t i;    ///< source index
  int64_t j;    ///< target index
  double mass;  ///< mass moved from i to j
};

/// An exact OT solution: cost, plan entries and dual potentials.
struct ExactTransportResult {
  double cost = 0;               ///< sum_ij P_ij C_ij
  std::vector<PlanEntry> plan;   ///< the non-zero entries of P (at most n + m - 1)
  bool optimal = false;          ///< the solver finished and the duals certify it
  std::string status;            ///< "optimal", "infeasible", "unbounded", "not certified"
  double min_reduced_cost = 0;   ///< min_ij C_ij - u_i - v_j (>= -tolerance when optimal)
  double duality_gap = 0;        ///< primal cost - dual value, after repairing dual feasibility
  double supply_scale = 0;       ///< the integer scaling of the weights
  int64_t pivots = 0;            ///< simplex pivots (not counted by the LEMON path)
  /// Dual potentials u [n], v [m] (POT's log['u'], log['v']): u shifted by
  /// min(min_reduced_cost, 0) so that C_ij - u_i - v_j >= 0 everywhere; when
  /// optimal, a.u + b.v = cost up to the duality gap.
  std::vector<double> source_potential;  ///< u
  std::vector<double> target_potential;  ///< v
};

/// a [n], b [m] (non-negative, normalised here to sum 1), cost [n, m].
/// Throws InvalidArgument on empty measures, negative/non-finite weights,
/// zero total mass or shape mismatch (naming which).
/// row_order / col_order (optional permutations) give the north-west corner
/// rule of the first basis; a good order (principal_axis_orders) saves pivots.
ExactTransportResult exact_transport(const at::Tensor& a, const at::Tensor& b, const at::Tensor& cost,
                                     const std::vector<int32_t>& row_order = {},
                                     const std::vector<int32_t>& col_order = {});

/// Exact OT between fixed weights for a sequence of cost matrices: each solve
/// starts from the last optimal basis (still feasible: only the costs change),
/// which is what makes free-support barycenter iterations cheap.
class ExactTransportSequence {
 public:
  /// a [n], b [m]: non-negative, normalised here (as exact_transport).
  ExactTransportSequence(const at::Tensor& a, const at::Tensor& b);
  ~ExactTransportSequence();
  /// Movable, not copyable.
  ExactTransportSequence(ExactTransportSequence&&) noexcept;

  /// cost [n, m]. The orders seed the first basis only (see exact_transport).
  ExactTransportResult solve(const at::Tensor& cost, const std::vector<int32_t>& row_order = {},
                             const std::vector<int32_t>& col_order = {});

 private:
  int64_t n_ = 0, m_ = 0, scale_ = 0;
  std::vector<double> a_, b_;
  std::vector<int64_t> sa_, sb_;
  std::vector<int32_t> rows_, cols_;  ///< the points with mass
  std::unique_ptr<TransportSimplex> simplex_;
  bool solved_ = false;
};

/// The same problem by LEMON's NetworkSimplex (block search): the reference.
ExactTransportResult exact_transport_lemon(const at::Tensor& a, const at::Tensor& b, const at::Tensor& cost);

/// Orders of x's and y's points along the principal axis of both clouds
/// together. In 1-D the north-west corner rule along them is the optimal plan
/// (monotone rearrangement); for other clouds it is a close first basis.
std::pair<std::vector<int32_t>, std::vector<int32_t>> principal_axis_orders(const at::Tensor& x, const at::Tensor& y);

/// Exact W2^2 between clouds x [n, d] and y [m, d]; empty weights mean uniform.
ExactTransportResult exact_w2(const at::Tensor& x, const at::Tensor& y, const at::Tensor& a = {},
                              const at::Tensor& b = {});

/// |x_i - y_j|^2 as an [n, m] float64 matrix.
at::Tensor squared_distances(const at::Tensor& x, const at::Tensor& y);

}  // namespace wbary::ot
