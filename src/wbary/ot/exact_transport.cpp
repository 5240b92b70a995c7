#include "wbary/ot/exact_transport.h"

#include <lemon/network_simplex.h>
#include "wbary/ot/complete_bipartite_digraph.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "wbary/error.h"
#include "wbary/ot/bregman_barycenter.h"

namespace wbary::ot {
namespace {

std::vector<double> checked_weights(const at::Tensor& w, int64_t expected, const char* name) {
  const at::Tensor c = w.to(at::kDouble).contiguous().view({-1});
  if (c.numel() != expected) {
    throw InvalidArgument(std::string(name) + ": " + std::to_string(c.numel()) + " weights for " +
                          std::to_string(expected) + " points");
  }
  return normalised_weights(std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel()), expected,
                            name);
}

// Integer supplies summing exactly to `scale`: largest-remainder rounding.
std::vector<int64_t> integer_masses(const std::vector<double>& w, int64_t scale) {
  std::vector<int64_t> out(w.size());
  std::vector<std::pair<double, size_t>> remainder(w.size());
  int64_t sum = 0;
  for (size_t k = 0; k < w.size(); ++k) {
    const double exact = w[k] * static_cast<double>(scale);
    out[k] = static_cast<int64_t>(std::floor(exact));
    remainder[k] = {exact - static_cast<double>(out[k]), k};
    sum += out[k];
  }
  std::sort(remainder.begin(), remainder.end(), std::greater<>());
  for (int64_t k = 0; k < scale - sum; ++k) ++out[remainder[static_cast<size_t>(k) % w.size()].second];
  return out;
}

}  // namespace

at::Tensor squared_distances(const at::Tensor& x, const at::Tensor& y) {
  const at::Tensor xd = x.to(at::kDouble), yd = y.to(at::kDouble);
  at::Tensor c = xd.square().sum(1, true) + yd.square().sum(1).unsqueeze(0) - 2 * at::mm(xd, yd.t());
  return at::clamp_min(c, 0);
}

ExactTransportResult exact_transport(const at::Tensor& a_in, const at::Tensor& b_in, const at::Tensor& cost_in) {
  const at::Tensor cost = cost_in.to(at::kDouble).contiguous();
  if (cost.dim() != 2 || cost.size(0) == 0 || cost.size(1) == 0) {
    throw InvalidArgument("exact transport: empty measure (cost matrix must be [n >= 1, m >= 1])");
  }
  if (!at::isfinite(cost).all().item<bool>()) throw InvalidArgument("exact transport: cost has NaN/Inf");
  const int64_t n = cost.size(0), m = cost.size(1);
  const std::vector<double> a = checked_weights(a_in, n, "source weights");
  const std::vector<double> b = checked_weights(b_in, m, "target weights");

  // Uniform weights on n and m points are represented exactly with a
  // multiple of n*m; otherwise 2^40 keeps rounding at 1e-12 per weight.
  const bool uniform = std::all_of(a.begin(), a.end(), [&](double v) { return v == a[0]; }) &&
                       std::all_of(b.begin(), b.end(), [&](double v) { return v == b[0]; });
  int64_t scale = int64_t{1} << 40;
  if (uniform) scale = std::max<int64_t>(1, scale / (n * m)) * n * m;
  const std::vector<int64_t> sa = integer_masses(a, scale), sb = integer_masses(b, scale);

  using Graph = CompleteBipartiteDigraph;
  using Simplex = lemon::NetworkSimplex<Graph, int64_t, double>;
  if (n * m > std::numeric_limits<int>::max()) {
    throw InvalidArgument("exact transport: " + std::to_string(n) + " x " + std::to_string(m) +
                          " is more than 2^31 arcs; use Sinkhorn (--eps) at this size");
  }
  const Graph g(static_cast<int>(n), static_cast<int>(m));
  Graph::NodeMap<int64_t> supply(g);
  for (int64_t i = 0; i < n; ++i) supply[g.source_node(static_cast<int>(i))] = sa[i];
  for (int64_t j = 0; j < m; ++j) supply[g.target_node(static_cast<int>(j))] = -sb[j];
  const double* c = cost.data_ptr<double>();
  // The costs are read straight from the dense matrix: arc id = i * m + j.
  struct DenseCostMap {
    typedef Graph::Arc Key;
    typedef double Value;
    const double* c;
    double operator[](const Key& a) const { return c[Graph::id(a)]; }
  };
  Simplex simplex(g);
  simplex.costMap(DenseCostMap{c}).supplyMap(supply);
  // Block search (LEMON's default and POT's choice) measured fastest here on
  // n = m = 3000: 2.0 s vs 3.1 s (candidate list) and 3.3 s (altering list).
  const auto status = simplex.run(Simplex::BLOCK_SEARCH);

  ExactTransportResult r;
  r.supply_scale = static_cast<double>(scale);
  if (status == Simplex::INFEASIBLE) {
    r.status = "infeasible";
    return r;
  }
  if (status == Simplex::UNBOUNDED) {
    r.status = "unbounded";
    return r;
  }
  double total = 0;
  for (Graph::ArcIt arc(g); arc != lemon::INVALID; ++arc) {
    const int64_t f = simplex.flow(arc);
    if (f == 0) continue;
    const int64_t i = Graph::id(arc) / m, j = Graph::id(arc) % m;
    const double mass = static_cast<double>(f) / static_cast<double>(scale);
    r.plan.push_back({i, j, mass});
    total += mass * c[i * m + j];
  }
  r.cost = total;
  // Certificate: reduced costs C_ij - (u_i + v_j) >= 0 with LEMON's potentials
  // (u_i = -pi(src_i), v_j = pi(dst_j) in its sign convention).
  std::vector<double> u(n), v(m);
  for (int64_t i = 0; i < n; ++i) u[i] = -simplex.potential(g.source_node(static_cast<int>(i)));
  for (int64_t j = 0; j < m; ++j) v[j] = simplex.potential(g.target_node(static_cast<int>(j)));
  double min_rc = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) min_rc = std::min(min_rc, c[i * m + j] - u[i] - v[j]);
  }
  double dual = std::min(min_rc, 0.0);  // shifting u by min_rc < 0 makes the duals feasible
  for (int64_t i = 0; i < n; ++i) dual += a[i] * u[i];
  for (int64_t j = 0; j < m; ++j) dual += b[j] * v[j];
  r.min_reduced_cost = min_rc;
  r.duality_gap = total - dual;
  const double max_cost = cost.max().item<double>();
  const double tolerance = 1e-12 * std::max(1.0, max_cost) * static_cast<double>(n + m);
  r.optimal = min_rc >= -tolerance;
  r.status = r.optimal ? "optimal" : "not certified";
  return r;
}

ExactTransportResult exact_w2(const at::Tensor& x, const at::Tensor& y, const at::Tensor& a, const at::Tensor& b) {
  if (x.dim() != 2 || y.dim() != 2 || x.size(0) == 0 || y.size(0) == 0) {
    throw InvalidArgument("exact W2: point clouds must be non-empty [n, d] arrays");
  }
  if (x.size(1) != y.size(1)) {
    throw InvalidArgument("exact W2: dimensions differ (" + std::to_string(x.size(1)) + " vs " +
                          std::to_string(y.size(1)) + ")");
  }
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  return exact_transport(a.defined() ? a : at::ones({x.size(0)}, opts), b.defined() ? b : at::ones({y.size(0)}, opts),
                         squared_distances(x, y));
}

}  // namespace wbary::ot
