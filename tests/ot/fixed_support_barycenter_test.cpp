#include <gtest/gtest.h>

#include "support/test_support.h"
#include "wbary/error.h"
#include "wbary/ot/fixed_support_barycenter.h"

namespace wbary::ot {
namespace {

at::Tensor line_cost(int64_t n) {
  const at::Tensor t = at::linspace(0, 1, n, at::kDouble);
  return (t.unsqueeze(1) - t.unsqueeze(0)).square();
}

TEST(FixedSupportBarycenter, SpikesMeetAtTheWeightedMidpoint) {
  const int64_t n = 81;
  at::Tensor a = at::zeros({n}, at::kDouble), b = at::zeros({n}, at::kDouble);
  a[10] = 1;
  b[70] = 1;
  const at::Tensor idx = at::arange(n, at::kDouble);
  for (double t : {0.5, 0.25}) {
    const BregmanResult r = FixedSupportBarycenter({.epsilon = 2e-4, .max_iterations = 5000, .tolerance = 1e-9})
                                .solve({a, b}, line_cost(n), {1 - t, t});
    EXPECT_TRUE(r.converged);
    EXPECT_NEAR(r.barycenter.sum().item<double>(), 1.0, 1e-6);
    // W2 barycenter of Diracs at 10 and 70 is a Dirac at (1-t) 10 + t 70 (bins);
    // entropy spreads it symmetrically: centroid within 0.05 bin.
    EXPECT_NEAR((r.barycenter * idx).sum().item<double>() / r.barycenter.sum().item<double>(), (1 - t) * 10 + t * 70,
                0.05);
  }
}

TEST(FixedSupportBarycenter, BadInputIsRefused) {
  const at::Tensor h = at::ones({5}, at::kDouble);
  EXPECT_THROW(FixedSupportBarycenter({.epsilon = 0}), InvalidArgument);
  EXPECT_THROW(FixedSupportBarycenter().solve({h, at::ones({4}, at::kDouble)}, line_cost(5)), InvalidArgument);
  EXPECT_THROW(FixedSupportBarycenter().solve({h, -h}, line_cost(5)), InvalidArgument);
  EXPECT_THROW(FixedSupportBarycenter().solve({h, h}, line_cost(5), {1, -1}), InvalidArgument);
  EXPECT_THROW(FixedSupportBarycenter().solve({h}, at::ones({5, 4}, at::kDouble)), InvalidArgument);
}

}  // namespace
}  // namespace wbary::ot
