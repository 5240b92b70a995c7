#include <gtest/gtest.h>

#include "support/test_support.h"
#include "wbary/barycenter/problem.h"
#include "wbary/data/empirical.h"
#include "wbary/data/gaussian.h"
#include "wbary/data/simplex.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/metrics/gaussian.h"

namespace wbary::data {
namespace {

TEST(Samplers, SameSeedSameSamplesDifferentStepDifferentSamples) {
  for (const char* spec : {"gaussian:dim=3,seed=4", "mixture:dim=2,k=4", "ring:inner=0.5,outer=1", "disc:r=2",
                           "square:side=1"}) {
    auto s = make_sampler(spec);
    EXPECT_TRUE(at::equal(s->batch(7, 1, 3, 50), s->batch(7, 1, 3, 50))) << spec;
    EXPECT_FALSE(at::equal(s->batch(7, 1, 3, 50), s->batch(7, 1, 4, 50))) << spec;
    EXPECT_FALSE(at::equal(s->batch(7, 1, 3, 50), s->batch(8, 1, 3, 50))) << spec;
  }
}

TEST(Samplers, GaussianSampleMomentsMatchTheLaw) {
  GaussianSampler g = GaussianSampler::random(4, 11, 0.5, 5.0, /*shift=*/1.0);
  at::Generator gen = make_generator(3);
  const auto m = metrics::empirical_moments(g.sample(200000, gen));
  // Standard error of a covariance entry ~ 5 / sqrt(2e5) ~ 0.011; 0.06 is > 5 sigma.
  EXPECT_LT((m.covariance - g.gaussian()->covariance).abs().max().item<double>(), 0.06);
  EXPECT_LT((m.mean - 1.0).abs().max().item<double>(), 0.03);
  auto [evals, evecs] = at::linalg_eigh(g.gaussian()->covariance);
  EXPECT_GE(evals.min().item<double>(), 0.5 - 1e-9);
  EXPECT_LE(evals.max().item<double>(), 5.0 + 1e-9);
}

TEST(Samplers, ShapesStayInsideTheirSupport) {
  at::Generator gen = make_generator(0);
  const at::Tensor ring = make_sampler("ring:inner=0.6,outer=1,cx=2,cy=-1")->sample(5000, gen);
  const at::Tensor r = (ring - at::tensor({2.0, -1.0}, at::kDouble)).norm(2, {1});
  EXPECT_GE(r.min().item<double>(), 0.6 - 1e-12);
  EXPECT_LE(r.max().item<double>(), 1.0 + 1e-12);
  const at::Tensor sq = make_sampler("square:side=2")->sample(5000, gen);
  EXPECT_LE(sq.abs().max().item<double>(), 1.0);
  // Uniform on a square of side 2: variance 1/3 per coordinate.
  EXPECT_NEAR(sq.var(0).mean().item<double>(), 1.0 / 3, 0.02);
}

TEST(Empirical, EpochVisitsEveryPointOnceAndReshuffles) {
  const at::Tensor pts = at::arange(40, at::kDouble).reshape({20, 2});
  EmpiricalSampler s(pts, "test");
  std::vector<at::Tensor> epoch;
  for (int step = 0; step < 4; ++step) epoch.push_back(s.batch(5, 0, step, 5));
  const at::Tensor all = std::get<0>(at::cat(epoch).select(1, 0).sort());
  EXPECT_TRUE(at::equal(all, pts.select(1, 0)));
  EXPECT_FALSE(at::equal(s.batch(5, 0, 0, 5), s.batch(5, 0, 4, 5)));  // epoch 2 is reshuffled
  EXPECT_THROW(s.batch(5, 0, 0, 21), InvalidArgument);
}

TEST(Spec, ErrorsNameTheSpecAndKey) {
  try {
    make_sampler("gaussian:dim=2,sed=3");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("sed"), std::string::npos);
  }
  EXPECT_THROW(make_sampler("gaussian:dim=abc"), InvalidArgument);
  EXPECT_THROW(make_sampler("blob:r=1"), InvalidArgument);
  EXPECT_THROW(make_sampler("ring:inner=2,outer=1"), InvalidArgument);
  EXPECT_THROW(make_sampler("missing_file.npy"), IoError);
}

TEST(Problem, DimensionMismatchAndBadWeightsAreRejected) {
  barycenter::BarycenterProblem p;
  p.marginals = {make_sampler("gaussian:dim=2"), make_sampler("gaussian:dim=3")};
  try {
    p.validate();
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("dimension 3"), std::string::npos) << e.what();
  }
  p.marginals[1] = make_sampler("gaussian:dim=2,seed=1");
  p.weights = {0.5, 0.6};
  EXPECT_THROW(p.validate(), InvalidArgument);
  p.weights = {-0.5, 1.5};
  EXPECT_THROW(p.validate(), InvalidArgument);
  p.weights = {};
  p.validate();
  EXPECT_EQ(p.weights, (std::vector<double>{0.5, 0.5}));
}

TEST(Simplex, DirichletDrawsAndVertices) {
  at::Generator gen = data::make_generator(4);
  const at::Tensor w = data::sample_simplex(20000, 3, 1.0, 0.25, gen);
  EXPECT_LT((w.sum(1) - 1).abs().max().item<double>(), 1e-12);
  EXPECT_GE(w.min().item<double>(), 0.0);
  // Symmetric Dirichlet and uniform vertices: every mean 1/3 (sd of a
  // coordinate < 0.5, so 4.5 standard errors at n = 20000 is 0.016).
  EXPECT_LT((w.mean(0) - 1.0 / 3).abs().max().item<double>(), 0.016);
  // Vertices: the share asked for (binomial sd 0.003 at n = 20000). A
  // Dirichlet(1) draw is a vertex with probability 0.
  const double vertices = (std::get<0>(w.max(1)) == 1).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(vertices, 0.25, 0.015);
  // Dirichlet(alpha) coordinates have variance (m - 1) / (m^2 (m alpha + 1)): 2 / 36 for m = 3, alpha = 1.
  const at::Tensor d = data::sample_simplex(20000, 3, 1.0, 0.0, gen);
  EXPECT_NEAR(d.var(0).mean().item<double>(), 2.0 / 36, 0.003);
  EXPECT_THROW(data::sample_simplex(1, 3, 0.0, 0.1, gen), InvalidArgument);
  EXPECT_THROW(data::sample_simplex(1, 3, 1.0, 1.5, gen), InvalidArgument);
}

TEST(Simplex, WeightTextAndGrids) {
  const auto w = data::parse_weight_vector("1,1,2", 3, "--weights");
  EXPECT_DOUBLE_EQ(w[2], 0.5);
  EXPECT_THROW(data::parse_weight_vector("0.5,0.5", 3, "--weights"), InvalidArgument);
  EXPECT_THROW(data::parse_weight_vector("0.5,x,0.5", 3, "--weights"), InvalidArgument);
  EXPECT_THROW(data::parse_weight_vector("0.5,-0.1,0.6", 3, "--weights"), InvalidArgument);
  EXPECT_THROW(data::parse_weight_vector("0,0,0", 3, "--weights"), InvalidArgument);
  EXPECT_EQ(data::simplex_grid(3, 4).size(), 15u);  // (k + 1)(k + 2) / 2
  EXPECT_EQ(data::simplex_grid(2, 4).size(), 5u);
  for (const auto& v : data::simplex_grid(3, 5)) EXPECT_NEAR(v[0] + v[1] + v[2], 1.0, 1e-12);
  EXPECT_THROW(data::simplex_grid(4, 3), InvalidArgument);
}

}  // namespace
}  // namespace wbary::data
