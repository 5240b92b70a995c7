// File: wbary/ot/exact_transport.h
//
// Exact optimal transport between two discrete measures sum_i a_i delta_{x_i}
// and sum_j b_j delta_{y_j}: the linear program min <P, C> over couplings,
// solved by LEMON's network simplex on the complete bipartite graph, and
// exact W2 between point clouds (C_ij = |x_i - y_j|^2), the metric that
// POT's ot.emd2 computes.
//
// LEMON wants integer supplies: the weights are scaled to integers summing
// to exactly 2^40-ish (the factor is recorded; uniform weights are scaled
// without rounding), and the costs are kept in double, as POT's own copy of
// this network simplex does. Because LEMON documents integer costs, the
// result is verified afterwards: the potentials it returns must be dual
// feasible (reduced costs >= 0 up to round-off), which certifies optimality;
// the worst violation and the duality gap are reported.
//
// Example:
//   ot::ExactTransportResult r = ot::exact_w2(x, y);   // uniform weights
//   if (!r.optimal) ...;   r.cost is W2^2
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace wbary::ot {

struct PlanEntry {
  int64_t i, j;
  double mass;
};

struct ExactTransportResult {
  double cost = 0;               // sum_ij P_ij C_ij
  std::vector<PlanEntry> plan;   // the non-zero entries of P (at most n + m - 1)
  bool optimal = false;          // LEMON reported OPTIMAL and the duals certify it
  std::string status;            // "optimal", "infeasible", "unbounded", "not certified"
  double min_reduced_cost = 0;   // min_ij C_ij - u_i - v_j (>= -tolerance when optimal)
  double duality_gap = 0;        // primal cost - dual value, after repairing dual feasibility
  double supply_scale = 0;       // the integer scaling of the weights
};

/// a [n], b [m] (non-negative, normalised here to sum 1), cost [n, m].
/// Throws InvalidArgument on empty measures, negative/non-finite weights,
/// zero total mass or shape mismatch (naming which).
ExactTransportResult exact_transport(const at::Tensor& a, const at::Tensor& b, const at::Tensor& cost);

/// Exact W2^2 between clouds x [n, d] and y [m, d]; empty weights mean uniform.
ExactTransportResult exact_w2(const at::Tensor& x, const at::Tensor& y, const at::Tensor& a = {},
                              const at::Tensor& b = {});

/// |x_i - y_j|^2 as an [n, m] float64 matrix.
at::Tensor squared_distances(const at::Tensor& x, const at::Tensor& y);

}  // namespace wbary::ot
