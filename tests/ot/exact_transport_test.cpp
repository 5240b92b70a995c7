#include <gtest/gtest.h>

#include "support/test_support.h"
#include "wbary/error.h"
#include "wbary/ot/exact_transport.h"

namespace wbary::ot {
namespace {

TEST(ExactTransport, TranslatedCloudCostsTheSquaredShift) {
  // Moving every point by t is optimal (cyclical monotonicity), so W2^2 = |t|^2.
  const at::Tensor x = at::randn({60, 3}, at::kDouble);
  const at::Tensor t = at::tensor({0.5, -1.0, 2.0}, at::kDouble);
  const ExactTransportResult r = exact_w2(x, x + t);
  EXPECT_TRUE(r.optimal) << r.status;
  EXPECT_NEAR(r.cost, t.square().sum().item<double>(), 1e-12 * 5.25);  // round-off of 60 terms
  EXPECT_EQ(r.plan.size(), 60u);  // a permutation
}

TEST(ExactTransport, PlanHasTheMarginalsAndTheDualsCertifyIt) {
  const at::Tensor x = at::randn({23, 2}, at::kDouble), y = at::randn({31, 2}, at::kDouble) + 1;
  const at::Tensor a = at::rand({23}, at::kDouble) + 0.1, b = at::rand({31}, at::kDouble) + 0.1;
  const ExactTransportResult r = exact_w2(x, y, a, b);
  ASSERT_TRUE(r.optimal) << r.status << " min reduced cost " << r.min_reduced_cost;
  at::Tensor row = at::zeros({23}, at::kDouble), col = at::zeros({31}, at::kDouble);
  for (const auto& e : r.plan) {
    row[e.i] += e.mass;
    col[e.j] += e.mass;
  }
  // Supplies are integers summing to ~2^40: marginals exact to ~1e-12.
  EXPECT_LT((row - a / a.sum()).abs().max().item<double>(), 1e-11);
  EXPECT_LT((col - b / b.sum()).abs().max().item<double>(), 1e-11);
  EXPECT_LE(r.plan.size(), 23u + 31u - 1u);  // a basic solution
  EXPECT_NEAR(r.duality_gap, 0.0, 1e-9);     // strong duality
  // The returned potentials, checked from scratch: dual feasible on every
  // pair, and a.u + b.v equals the plan's cost (1e-9: the cost is O(10) and
  // the supplies' integer rounding is ~1e-12 per entry).
  ASSERT_EQ(r.source_potential.size(), 23u);
  ASSERT_EQ(r.target_potential.size(), 31u);
  const at::Tensor cost = squared_distances(x, y);
  const at::Tensor u = at::tensor(r.source_potential, at::kDouble), v = at::tensor(r.target_potential, at::kDouble);
  EXPECT_GE((cost - u.unsqueeze(1) - v.unsqueeze(0)).min().item<double>(), -1e-10);
  const double dual = ((a / a.sum()) * u).sum().item<double>() + ((b / b.sum()) * v).sum().item<double>();
  EXPECT_NEAR(dual, r.cost, 1e-9);
}

TEST(ExactTransport, OnePointAgainstACloud) {
  const at::Tensor x = at::zeros({1, 2}, at::kDouble);
  const at::Tensor y = at::tensor({1.0, 0.0, 0.0, 2.0}, at::kDouble).view({2, 2});
  EXPECT_NEAR(exact_w2(x, y).cost, 0.5 * 1 + 0.5 * 4, 1e-12);
}

TEST(ExactTransport, BadInputIsRefused) {
  const at::Tensor x = at::randn({4, 2}, at::kDouble);
  EXPECT_THROW(exact_w2(x, at::randn({4, 3}, at::kDouble)), InvalidArgument);        // dimensions
  EXPECT_THROW(exact_w2(x, at::zeros({0, 2}, at::kDouble)), InvalidArgument);        // empty
  EXPECT_THROW(exact_w2(x, x, at::tensor({1.0, -1.0, 1.0, 1.0}, at::kDouble)), InvalidArgument);  // negative
  EXPECT_THROW(exact_w2(x, x, at::zeros({4}, at::kDouble)), InvalidArgument);        // no mass
  EXPECT_THROW(exact_w2(x, x, at::ones({3}, at::kDouble)), InvalidArgument);         // count
  // Unnormalised weights are normalised (documented), not refused.
  EXPECT_NEAR(exact_w2(x, x, at::full({4}, 3.0, at::kDouble), at::full({4}, 7.0, at::kDouble)).cost, 0.0, 1e-12);
}

}  // namespace
}  // namespace wbary::ot

// Sinkhorn: known answers and the link to the exact solver.
#include "wbary/ot/sinkhorn.h"

namespace wbary::ot {
namespace {

TEST(Sinkhorn, ConvergesToTheExactCostAsEpsilonShrinks) {
  const at::Tensor x = at::randn({30, 2}, at::kDouble), y = at::randn({40, 2}, at::kDouble) + 0.5;
  const at::Tensor C = squared_distances(x, y);
  const at::Tensor a = at::ones({30}, at::kDouble), b = at::ones({40}, at::kDouble);
  const double exact = exact_transport(a, b, C).cost;
  double previous = std::numeric_limits<double>::infinity();
  for (double eps : {0.5, 0.1, 0.03}) {
    const SinkhornResult r = Sinkhorn({.epsilon = eps, .max_iterations = 200000, .tolerance = 1e-10}).solve(a, b, C);
    EXPECT_TRUE(r.converged) << eps;
    // <P_eps, C> >= exact (P_eps is a coupling up to the 1e-10 marginal
    // error), decreasing to it as eps -> 0 (Peyre & Cuturi 2019, Prop. 4.1).
    EXPECT_GE(r.cost, exact - 1e-8);
    EXPECT_LE(r.cost, previous + 1e-12);
    previous = r.cost;
    EXPECT_LT((r.plan.sum(0) - b / 40).abs().max().item<double>(), 1e-10);  // the stopping rule's bound
    EXPECT_LT((r.plan.sum(1) - a / 30).abs().max().item<double>(), 1e-12);  // rows are exact after the u update
  }
  // eps = 0.03 against pairwise costs of order 1: the entropic bias is a few percent.
  EXPECT_NEAR(previous, exact, 0.1 * exact);
}

// The plain log-domain iteration (POT's sinkhorn_log), written out here as
// the reference for the solver's absorbed linear-domain blocks.
at::Tensor log_domain_plan(const at::Tensor& a, const at::Tensor& b, const at::Tensor& C, double eps, int iterations) {
  const at::Tensor Mr = -C / eps, loga = at::log(a / a.sum()), logb = at::log(b / b.sum());
  at::Tensor u = at::zeros_like(a), v = at::zeros_like(b);
  for (int it = 0; it < iterations; ++it) {
    v = logb - at::logsumexp(Mr + u.unsqueeze(1), {0});
    u = loga - at::logsumexp(Mr + v.unsqueeze(0), {1});
  }
  return at::exp(Mr + u.unsqueeze(1) + v.unsqueeze(0));
}

TEST(Sinkhorn, LinearDomainBlocksFollowTheLogDomainIterates) {
  // Same iterates, so the same plan to round-off, from a large eps (the
  // blocks run to their 100-iteration end) to a small one (scalings leave
  // [1e-100, 1e100] and the solver falls back to log-domain steps).
  const at::Tensor x = at::randn({60, 2}, at::kDouble) * 2, y = at::randn({70, 2}, at::kDouble) * 2 + 1;
  const at::Tensor C = squared_distances(x, y);
  const at::Tensor a = at::rand({60}, at::kDouble) + 0.1, b = at::rand({70}, at::kDouble) + 0.1;
  for (double eps : {1.0, 0.05, 1e-3}) {
    const SinkhornResult r = Sinkhorn({.epsilon = eps, .max_iterations = 250, .tolerance = 0}).solve(a, b, C);
    const at::Tensor ref = log_domain_plan(a, b, C, eps, 250);
    // Plan entries <= 1; measured differences 1e-17 .. 1e-14 (smallest eps).
    EXPECT_LT((r.plan - ref).abs().max().item<double>(), 1e-12) << eps;
    EXPECT_EQ(r.iterations, 250);
  }
  // A zero weight keeps the solve in the log domain (a / K v would be 0/0).
  at::Tensor a0 = a.clone();
  a0[5] = 0;
  const SinkhornResult r0 = Sinkhorn({.epsilon = 0.05, .max_iterations = 100, .tolerance = 0}).solve(a0, b, C);
  EXPECT_LT((r0.plan - log_domain_plan(a0, b, C, 0.05, 100)).abs().max().item<double>(), 1e-12);
  EXPECT_EQ(r0.plan[5].abs().sum().item<double>(), 0.0);
}

TEST(Sinkhorn, TinyEpsilonStaysFinite) {
  const at::Tensor x = at::randn({20, 2}, at::kDouble) * 10, y = at::randn({20, 2}, at::kDouble) * 10;
  const SinkhornResult r = Sinkhorn({.epsilon = 1e-6, .max_iterations = 50}).solve(
      at::ones({20}, at::kDouble), at::ones({20}, at::kDouble), squared_distances(x, y));
  EXPECT_TRUE(at::isfinite(r.plan).all().item<bool>());
  EXPECT_TRUE(std::isfinite(r.cost));
}

TEST(Sinkhorn, BadInputIsRefused) {
  EXPECT_THROW(Sinkhorn({.epsilon = 0}), InvalidArgument);
  const at::Tensor C = at::rand({3, 4}, at::kDouble);
  EXPECT_THROW(Sinkhorn().solve(at::ones({3}, at::kDouble), at::ones({3}, at::kDouble), C), InvalidArgument);
  EXPECT_THROW(Sinkhorn().solve(-at::ones({3}, at::kDouble), at::ones({4}, at::kDouble), C), InvalidArgument);
}

}  // namespace
}  // namespace wbary::ot
