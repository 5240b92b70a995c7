#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"
#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/data/gaussian.h"
#include "wbary/error.h"
#include "wbary/metrics/gaussian.h"

namespace wbary {
namespace {

data::GaussianMoments gauss(std::vector<double> mean, std::vector<double> cov) {
  const int64_t d = static_cast<int64_t>(mean.size());
  return {at::tensor(mean, at::kDouble), at::tensor(cov, at::kDouble).reshape({d, d})};
}

TEST(GaussianBarycenter, OneDimensionalClosedForm) {
  // In 1-D the barycenter of N(m_i, s_i^2) is N(sum a_i m_i, (sum a_i s_i)^2).
  const auto r = barycenter::GaussianBarycenter().solve(
      {gauss({1.0}, {4.0}), gauss({-2.0}, {0.25}), gauss({5.0}, {9.0})}, {0.2, 0.5, 0.3});
  EXPECT_TRUE(r.converged);
  const double s = 0.2 * 2 + 0.5 * 0.5 + 0.3 * 3;
  EXPECT_NEAR(r.barycenter.covariance.item<double>(), s * s, 1e-9);  // tolerance: fixed point stops at 1e-10 squared change
  EXPECT_NEAR(r.barycenter.mean.item<double>(), 0.2 - 1.0 + 1.5, 1e-12);
}

TEST(GaussianBarycenter, CommutingCovariancesAverageTheirSquareRoots) {
  // Shared eigenvectors: S^1/2 = sum a_i S_i^1/2.
  at::Tensor q = std::get<0>(at::linalg_qr(at::randn({3, 3}, at::kDouble)));
  auto with_eigs = [&](std::vector<double> e) {
    return data::GaussianMoments{at::zeros({3}, at::kDouble),
                                 at::matmul(q * at::tensor(e, at::kDouble).unsqueeze(0), q.t())};
  };
  const std::vector<std::vector<double>> eigs = {{1, 2, 3}, {4, 0.5, 1}, {0.7, 9, 2}};
  const std::vector<double> w = {0.5, 0.3, 0.2};
  const auto r = barycenter::GaussianBarycenter().solve({with_eigs(eigs[0]), with_eigs(eigs[1]), with_eigs(eigs[2])}, w);
  std::vector<double> root(3, 0.0);
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) root[k] += w[i] * std::sqrt(eigs[i][k]);
  }
  for (auto& x : root) x *= x;
  EXPECT_LT(testing::relative_error(r.barycenter.covariance, with_eigs(root).covariance), 1e-8);
}

TEST(GaussianBarycenter, InvariantToMarginalOrderAndSatisfiesFixedPoint) {
  std::vector<data::GaussianMoments> g;
  for (uint64_t s : {1, 2, 3}) g.push_back(*data::GaussianSampler::random(6, s).gaussian());
  const auto a = barycenter::GaussianBarycenter().solve({g[0], g[1], g[2]}, {0.2, 0.3, 0.5});
  const auto b = barycenter::GaussianBarycenter().solve({g[2], g[0], g[1]}, {0.5, 0.2, 0.3});
  EXPECT_LT(testing::relative_error(a.barycenter.covariance, b.barycenter.covariance), 1e-8);
  // S = sum a_i (S^1/2 S_i S^1/2)^1/2 (Fan et al. §2.2).
  const at::Tensor root = metrics::sqrtm_psd(a.barycenter.covariance);
  at::Tensor rhs = at::zeros({6, 6}, at::kDouble);
  const double w[] = {0.2, 0.3, 0.5};
  for (int i = 0; i < 3; ++i) rhs += w[i] * metrics::sqrtm_psd(at::matmul(at::matmul(root, g[i].covariance), root));
  EXPECT_LT(testing::relative_error(rhs, a.barycenter.covariance), 1e-6);
}

TEST(Bw2Uvp, ZeroForIdenticalAndHandComputedCase) {
  const auto g = *data::GaussianSampler::random(5, 9).gaussian();
  EXPECT_NEAR(metrics::bw2_uvp(g, g), 0.0, 1e-8);
  // N(0, 1) vs exact N(1, 4): W2^2 = 1 + (1 - 2)^2 = 2; UVP = 100 * 2 / 4 = 50 %.
  EXPECT_NEAR(metrics::bw2_uvp(gauss({0.0}, {1.0}), gauss({1.0}, {4.0})), 50.0, 1e-9);
  // Diagonal 2-D: estimate diag(1, 1), exact diag(4, 9), means 0 and (1, 0):
  // W2^2 = 1 + (1-2)^2 + (1-3)^2 = 6, tr = 13.
  EXPECT_NEAR(metrics::bw2_uvp(gauss({0, 0}, {1, 0, 0, 1}), gauss({1, 0}, {4, 0, 0, 9})), 600.0 / 13, 1e-9);
}

TEST(GaussianMap, PushesOneCovarianceOntoTheOther) {
  const auto p = *data::GaussianSampler::random(4, 1).gaussian();
  const auto q = *data::GaussianSampler::random(4, 2).gaussian();
  const at::Tensor a = metrics::gaussian_map_matrix(p.covariance, q.covariance);
  EXPECT_LT(testing::relative_error(at::matmul(at::matmul(a, p.covariance), a), q.covariance), 1e-9);
  EXPECT_GT(at::linalg_eigvalsh(a).min().item<double>(), 0);  // gradient of a convex quadratic
}

TEST(GaussianBarycenter, RejectsBadWeights) {
  const auto g = gauss({0.0}, {1.0});
  EXPECT_THROW(barycenter::GaussianBarycenter().solve({g, g}, {0.5, 0.6}), InvalidArgument);
  EXPECT_THROW(barycenter::GaussianBarycenter().solve({g, g}, {1.0}), InvalidArgument);
  EXPECT_THROW(barycenter::GaussianBarycenter().solve({g, g}, {-1.0, 2.0}), InvalidArgument);
}

}  // namespace
}  // namespace wbary
