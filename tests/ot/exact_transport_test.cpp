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
