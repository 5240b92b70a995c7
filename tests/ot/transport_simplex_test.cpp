// The transportation simplex against LEMON's NetworkSimplex (an independent
// implementation of the same LP) on problems with non-uniform, uniform
// (assignment: maximally degenerate) and rectangular weights; warm starts,
// first bases from any order, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "support/test_support.h"
#include "wbary/error.h"
#include "wbary/ot/exact_transport.h"
#include "wbary/ot/transport_simplex.h"

namespace wbary::ot {
namespace {

const at::TensorOptions kF64 = at::TensorOptions().dtype(at::kDouble);

// Both solvers certify their plans; the optimal costs must agree to
// round-off of the sum of n + m - 1 terms of size <= max C (1e-12 relative).
void expect_same_optimum(const at::Tensor& a, const at::Tensor& b, const at::Tensor& cost,
                         const std::vector<int32_t>& rows = {}, const std::vector<int32_t>& cols = {}) {
  const ExactTransportResult ours = exact_transport(a, b, cost, rows, cols);
  const ExactTransportResult lemon = exact_transport_lemon(a, b, cost);
  ASSERT_TRUE(ours.optimal) << ours.status << " min reduced cost " << ours.min_reduced_cost;
  ASSERT_TRUE(lemon.optimal) << lemon.status;
  EXPECT_NEAR(ours.cost, lemon.cost, 1e-12 * std::max(1.0, std::abs(lemon.cost)));
  EXPECT_NEAR(ours.duality_gap, 0.0, 1e-10);
  // The plan is a coupling of the (normalised) weights.
  at::Tensor row = at::zeros({cost.size(0)}, kF64), col = at::zeros({cost.size(1)}, kF64);
  for (const auto& e : ours.plan) {
    EXPECT_GT(e.mass, 0.0);
    row[e.i] += e.mass;
    col[e.j] += e.mass;
  }
  EXPECT_LT((row - a / a.sum()).abs().max().item<double>(), 1e-11);  // integer supplies of ~2^40
  EXPECT_LT((col - b / b.sum()).abs().max().item<double>(), 1e-11);
  EXPECT_LE(ours.plan.size(), static_cast<size_t>(cost.size(0) + cost.size(1) - 1));
}

TEST(TransportSimplex, MatchesLemonWithNonUniformWeights) {
  for (int trial = 0; trial < 5; ++trial) {
    const int64_t n = 20 + 7 * trial, m = 45 - 5 * trial;
    const at::Tensor x = at::randn({n, 2}, kF64), y = at::randn({m, 2}, kF64) + 0.5;
    expect_same_optimum(at::rand({n}, kF64) + 0.05, at::rand({m}, kF64) + 0.05, squared_distances(x, y));
  }
}

TEST(TransportSimplex, MatchesLemonOnDegenerateAssignments) {
  // Uniform weights on n = m points: every basis has n - 1 zero-flow arcs,
  // where a simplex without anti-cycling would stall.
  for (int64_t n : {1, 2, 50, 200}) {
    const at::Tensor x = at::randn({n, 3}, kF64), y = at::randn({n, 3}, kF64);
    expect_same_optimum(at::ones({n}, kF64), at::ones({n}, kF64), squared_distances(x, y));
  }
  // Integer costs: many ties between optimal plans.
  const at::Tensor c = at::randint(0, 4, {60, 60}, kF64);
  expect_same_optimum(at::ones({60}, kF64), at::ones({60}, kF64), c);
}

TEST(TransportSimplex, MatchesLemonOnRectangularAndGeneralCosts) {
  expect_same_optimum(at::ones({80}, kF64), at::ones({170}, kF64),
                      squared_distances(at::randn({80, 2}, kF64), at::randn({170, 2}, kF64)));
  // A cost that is not a distance, negative entries included.
  expect_same_optimum(at::rand({30}, kF64) + 0.1, at::rand({40}, kF64) + 0.1, at::randn({30, 40}, kF64));
}

TEST(TransportSimplex, AnyFirstBasisReachesTheOptimum) {
  const int64_t n = 70, m = 90;
  const at::Tensor x = at::randn({n, 2}, kF64), y = at::randn({m, 2}, kF64);
  const at::Tensor a = at::rand({n}, kF64) + 0.1, b = at::rand({m}, kF64) + 0.1;
  std::vector<int32_t> rows(n), cols(m);
  std::iota(rows.begin(), rows.end(), 0);
  std::iota(cols.begin(), cols.end(), 0);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 4; ++trial) {
    std::shuffle(rows.begin(), rows.end(), rng);
    std::shuffle(cols.begin(), cols.end(), rng);
    expect_same_optimum(a, b, squared_distances(x, y), rows, cols);
  }
}

TEST(TransportSimplex, OneDimensionalCloudsNeedNoPivotFromThePrincipalAxisBasis) {
  // In 1-D the monotone rearrangement is optimal: the north-west corner rule
  // along the sorted points is the answer, and the simplex confirms it.
  const at::Tensor x = at::randn({150, 1}, kF64), y = at::randn({150, 1}, kF64) * 2 + 1;
  const ExactTransportResult r = exact_w2(x, y);
  EXPECT_TRUE(r.optimal);
  EXPECT_EQ(r.pivots, 0);
  const at::Tensor xs = std::get<0>(x.view(-1).sort()), ys = std::get<0>(y.view(-1).sort());
  EXPECT_NEAR(r.cost, (xs - ys).square().mean().item<double>(), 1e-12);
}

TEST(TransportSimplex, WarmStartsGiveTheSameOptimumInFewerPivots) {
  const int64_t n = 120, m = 150;
  const at::Tensor x = at::randn({n, 2}, kF64), y = at::randn({m, 2}, kF64);
  const at::Tensor a = at::ones({n}, kF64), b = at::rand({m}, kF64) + 0.2;
  ExactTransportSequence sequence(a, b);
  const ExactTransportResult first = sequence.solve(squared_distances(x, y));
  ASSERT_TRUE(first.optimal);
  int64_t warm_pivots = 0, cold_pivots = 0;
  at::Tensor moved = x;
  for (int step = 0; step < 3; ++step) {
    moved = moved + 0.02 * at::randn({n, 2}, kF64);  // a small move, as in a barycenter iteration
    const at::Tensor cost = squared_distances(moved, y);
    const ExactTransportResult warm = sequence.solve(cost);
    const ExactTransportResult cold = exact_transport(a, b, cost);
    const ExactTransportResult lemon = exact_transport_lemon(a, b, cost);
    ASSERT_TRUE(warm.optimal);
    EXPECT_NEAR(warm.cost, lemon.cost, 1e-12 * lemon.cost);
    EXPECT_NEAR(cold.cost, lemon.cost, 1e-12 * lemon.cost);
    warm_pivots += warm.pivots;
    cold_pivots += cold.pivots;
  }
  EXPECT_LT(warm_pivots * 3, cold_pivots);  // measured: ~10x fewer
}

TEST(TransportSimplex, ZeroWeightPointsAreLeftOutAndCertified) {
  const at::Tensor x = at::randn({12, 2}, kF64), y = at::randn({9, 2}, kF64);
  at::Tensor a = at::rand({12}, kF64) + 0.1, b = at::rand({9}, kF64) + 0.1;
  a[3] = 0;
  a[7] = 0;
  b[0] = 0;
  expect_same_optimum(a, b, squared_distances(x, y));
  for (const auto& e : exact_transport(a, b, squared_distances(x, y)).plan) {
    EXPECT_NE(e.i, 3);
    EXPECT_NE(e.i, 7);
    EXPECT_NE(e.j, 0);
  }
}

TEST(TransportSimplex, BadInputIsRefused) {
  EXPECT_THROW(TransportSimplex({}, {1}), InvalidArgument);
  EXPECT_THROW(TransportSimplex({1, 0}, {1}), InvalidArgument);     // zero supply
  EXPECT_THROW(TransportSimplex({2, 1}, {2}), InvalidArgument);     // sums differ
  TransportSimplex s({1, 1}, {1, 1});
  EXPECT_THROW(s.north_west_basis({0, 0}, {}), InvalidArgument);     // not a permutation
  EXPECT_THROW(s.north_west_basis({0, 1, 2}, {}), InvalidArgument);  // wrong size
  const double nan_cost[4] = {0, 1, std::nan(""), 0};
  EXPECT_THROW(s.solve(nan_cost), InvalidArgument);
  EXPECT_THROW(exact_transport(at::ones({2}, kF64), at::ones({3}, kF64), at::zeros({2, 2}, kF64)), InvalidArgument);
  ExactTransportSequence seq(at::ones({2}, kF64), at::ones({2}, kF64));
  EXPECT_THROW(seq.solve(at::zeros({3, 2}, kF64)), InvalidArgument);  // cost of the wrong size
}

}  // namespace
}  // namespace wbary::ot
