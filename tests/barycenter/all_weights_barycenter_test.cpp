// NWB-II (Fan et al. 2021 §B): one training, the barycenters of every
// weight vector, against the closed-form Gaussian barycenter at each.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "support/test_support.h"
#include "wbary/barycenter/all_weights_barycenter.h"
#include "wbary/barycenter/evaluation.h"
#include "wbary/barycenter/methods.h"
#include "wbary/data/sampler.h"
#include "wbary/data/simplex.h"
#include "wbary/error.h"

namespace wbary::barycenter {
namespace {

AllWeightsBarycenterConfig small_config(int64_t iterations) {
  AllWeightsBarycenterConfig c;
  c.iterations = iterations;
  c.lr_decay_every = iterations * 3 / 4;
  c.potential.convex.width = 16;
  c.generator.width = 16;
  c.log_every = 1000000;
  return c;
}

const std::vector<std::string> kThreeGaussians = {"gaussian:dim=2,seed=1,shift=-1", "gaussian:dim=2,seed=2,shift=1",
                                                  "gaussian:dim=2,seed=3"};

// BW2-UVP (%) of h(., w)#eta and of the a-weighted pushes against the exact barycenter with weights w.
std::pair<double, double> uvp_at(const AllWeightsBarycenterModel& model, const BarycenterProblem& problem,
                                 const std::vector<double>& w) {
  BarycenterProblem at_w = problem;
  at_w.weights = w;
  const auto e = evaluate_gaussian(*model.at_weights(w), at_w, 20000, 3);
  EXPECT_TRUE(e.has_value());
  return {e->uvp_generator.value(), e->uvp_push};
}

class ThreeGaussiansAllWeights : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    at::set_num_threads(2);
    problem_ = new BarycenterProblem(testing::problem_of(kThreeGaussians));
    solver_ = new AllWeightsBarycenter(*problem_, small_config(3000));
    solver_->train();
  }
  static void TearDownTestSuite() {
    delete solver_;
    delete problem_;
  }
  static BarycenterProblem* problem_;
  static AllWeightsBarycenter* solver_;
};
BarycenterProblem* ThreeGaussiansAllWeights::problem_ = nullptr;
AllWeightsBarycenter* ThreeGaussiansAllWeights::solver_ = nullptr;

TEST_F(ThreeGaussiansAllWeights, CentreRandomWeightsAndNearVertices) {
  const auto& model = solver_->result();
  std::vector<std::vector<double>> ws = {{1 / 3., 1 / 3., 1 / 3.}, {0.9, 0.05, 0.05}, {0.05, 0.9, 0.05},
                                         {0.05, 0.05, 0.9}};
  at::Generator gen = data::make_generator(11);
  const at::Tensor random = data::sample_simplex(10, 3, 1.0, 0.0, gen);
  for (int64_t k = 0; k < 10; ++k) ws.push_back({random[k][0].item<double>(), random[k][1].item<double>(), random[k][2].item<double>()});
  for (const auto& w : ws) {
    const auto [gen_uvp, push_uvp] = uvp_at(model, *problem_, w);
    std::printf("w = (%.3f, %.3f, %.3f): BW2-UVP h %.3f %%, pushes %.3f %%\n", w[0], w[1], w[2], gen_uvp, push_uvp);
    EXPECT_LT(gen_uvp, 2.0);
    EXPECT_LT(push_uvp, 2.0);
  }
}

}  // namespace
}  // namespace wbary::barycenter
