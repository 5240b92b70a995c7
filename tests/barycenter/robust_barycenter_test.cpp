// Robust (semi-unbalanced) barycenters: the divergence conjugates, the
// m-congruence, the classical limit on Gaussians, the poster's outlier and
// class-imbalance experiments, the cost-map hook, and checkpoints.
#include "wbary/barycenter/robust_barycenter.h"

#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <iostream>

#include "support/test_support.h"
#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/data/gaussian.h"
#include "wbary/data/mixture.h"
#include "wbary/error.h"
#include "wbary/metrics/gaussian.h"
#include "wbary/ot/free_support_barycenter.h"

namespace wbary::barycenter {
namespace {

const at::TensorOptions kF64 = at::TensorOptions().dtype(at::kDouble);
// The balanced (identity) solver needs more one-cycle steps on the mixtures
// than the KL ones: at 400 steps it had not settled (15 % outlier mass,
// 0.27 middle mass); at 1000 it gives 3.8 % and 0.48 (theory ~5 % and 0.5).
constexpr int64_t kClassicalSteps = 1000;

std::shared_ptr<const data::Sampler> gmm(std::vector<double> means, std::vector<double> weights, double std) {
  const int64_t k = static_cast<int64_t>(weights.size());
  return std::make_shared<data::GaussianMixtureSampler>(at::tensor(means, kF64).view({k, 2}), std,
                                                        at::tensor(weights, kF64), "gmm");
}

RobustBarycenterConfig small_config(Divergence d, double tau, int64_t iterations) {
  RobustBarycenterConfig c;
  c.divergence = d;
  c.tau = tau;
  c.iterations = iterations;
  c.batch_size = 256;
  return c;
}

TEST(Divergence, ConjugatesAndDerivativesMatchTheirDefinitions) {
  const at::Tensor t = at::linspace(-3, 3, 13, kF64);
  for (Divergence d : {Divergence::kIdentity, Divergence::kKl, Divergence::kSoftplus}) {
    for (double tau : {1.0, 5.0}) {
      // psi_bar(0) = 0 and psi_bar'(0) = 1 for all three: they agree to first order at 0.
      EXPECT_NEAR(divergence_conjugate(d, tau, at::zeros({1}, kF64)).item<double>(), 0.0, 1e-15);
      EXPECT_NEAR(divergence_conjugate_derivative(d, tau, at::zeros({1}, kF64)).item<double>(), 1.0, 1e-15);
      const at::Tensor tr = t.clone().requires_grad_(true);
      const at::Tensor g = torch::autograd::grad({divergence_conjugate(d, tau, tr).sum()}, {tr})[0];
      EXPECT_LT((g - divergence_conjugate_derivative(d, tau, t)).abs().max().item<double>(), 1e-12) << to_string(d);
    }
  }
  // The poster's KL conjugate, tau-scaled: tau (exp(t / tau) - 1).
  EXPECT_NEAR(divergence_conjugate(Divergence::kKl, 2.0, at::ones({1}, kF64)).item<double>(), 2 * (std::exp(0.5) - 1),
              1e-15);
  EXPECT_NEAR(one_cycle_factor(0.0), 1.0 / 25, 1e-15);
  EXPECT_NEAR(one_cycle_factor(0.3), 1.0, 1e-15);
  EXPECT_NEAR(one_cycle_factor(1.0), 1.0 / 25 / 1e4, 1e-15);
  EXPECT_THROW(parse_divergence("chi2"), InvalidArgument);
}

TEST(RobustBarycenter, PotentialsAreMCongruent) {
  RobustBarycenterProblem problem;
  problem.base.marginals = {gmm({0, 0}, {1}, 1), gmm({1, 0}, {1}, 1), gmm({0, 1}, {1}, 1)};
  problem.base.weights = {0.2, 0.3, 0.5};
  RobustBarycenterConfig c = small_config(Divergence::kKl, 1, 3);
  c.dtype = "float64";
  RobustBarycenter solver(problem, c);
  solver.train();  // m moves away from 0
  const auto& model = solver.model();
  const at::Tensor y = at::randn({50, 2}, kF64);
  at::Tensor sum = at::zeros({50}, kF64);
  for (int64_t k = 0; k < 3; ++k) sum += problem.base.weights[k] * model.potential(k, y);
  // sum_k lambda_k f_k = m exactly (up to round-off), whatever the g_k.
  EXPECT_LT((sum - model.m).abs().max().item<double>(), 1e-12);
  EXPECT_NE(model.m.item<double>(), 0.0);
}

TEST(RobustBarycenter, IdentityDivergenceGivesTheClassicalGaussianBarycenter) {
  RobustBarycenterProblem problem;
  std::vector<data::GaussianMoments> moments;
  for (int i = 0; i < 3; ++i) {
    auto g = std::make_shared<data::GaussianSampler>(data::GaussianSampler::random(2, 100 + i));
    moments.push_back(*g->gaussian());
    problem.base.marginals.push_back(g);
  }
  RobustBarycenter solver(problem, small_config(Divergence::kIdentity, 1, 300));
  solver.train();
  const auto exact = GaussianBarycenter().solve(moments, solver.problem().base.weights);
  const auto s = solver.model().sample(solver.problem().base.marginals, 8000, 1);
  // Identity: every input is kept (weight 1).
  for (double rate : s.acceptance_rate) EXPECT_DOUBLE_EQ(rate, 1.0);
  // The bar is 2 %; measured 0.02 % at 300 steps (8000 samples
  // alone give ~0.01-0.05 % of sampling error).
  EXPECT_LT(metrics::bw2_uvp(s.points, exact.barycenter), 2.0);
}

struct OutlierRun {
  double outlier_mass;      // barycenter samples with y > 3 (clean modes at y = +-1, std 0.3)
  double accept_outlier;    // mean acceptance weight at an outlier mode of P_1
  double accept_inlier;     // ... and at an inlier mode
};

// The poster's outlier experiment (lower figure), rebuilt: three 2-D
// mixtures with clean modes at y = +-1; P_1 and P_2 carry 5 % outliers at y = 7.
std::vector<std::shared_ptr<const data::Sampler>> outlier_inputs() {
  return {gmm({-4, 1, -4, -1, -4, 7}, {0.475, 0.475, 0.05}, 0.3), gmm({4, 1, 4, -1, 4, 7}, {0.475, 0.475, 0.05}, 0.3),
          gmm({0, 1, 0, -1}, {0.5, 0.5}, 0.3)};
}

OutlierRun run_outliers(Divergence d, double tau, int64_t iterations = 400) {
  RobustBarycenterProblem problem;
  problem.base.marginals = outlier_inputs();
  RobustBarycenter solver(problem, small_config(d, tau, iterations));
  solver.train();
  const auto& model = solver.model();
  const auto s = model.sample(solver.problem().base.marginals, 8000, 1);
  OutlierRun r;
  r.outlier_mass = (s.points.select(1, 1) > 3).to(at::kDouble).mean().item<double>();
  at::Generator gen = data::make_generator(3);
  const at::Tensor noise = 0.3 * at::randn({500, 2}, gen, kF64);
  r.accept_outlier = model.acceptance_weight(0, noise + at::tensor({-4.0, 7.0}, kF64)).mean().item<double>();
  r.accept_inlier = model.acceptance_weight(0, noise + at::tensor({-4.0, 1.0}, kF64)).mean().item<double>();
  std::cerr << to_string(d) << " tau " << tau << ": outlier mass " << r.outlier_mass << ", w(outlier) "
            << r.accept_outlier << ", w(inlier) " << r.accept_inlier << "\n";
  return r;
}

// The classical barycenter's share above y = 3, from the exact free-support
// barycenter (Cuturi & Doucet, exact OT) of 1000 samples per input: an
// independent reference. The trained balanced solver is not: at 1000 steps
// its share moved between 3.7 % and 9.4 % with round-off alone (the same
// binary, two runs), so comparing the KL runs with it made the test flaky.
double exact_classical_outlier_mass() {
  at::Generator gen = data::make_generator(11);
  std::vector<at::Tensor> clouds;
  for (const auto& input : outlier_inputs()) clouds.push_back(input->sample(1000, gen).to(at::kDouble));
  const ot::FreeSupportResult r = ot::FreeSupportBarycenter({.max_iterations = 20}).solve(clouds, {}, clouds[2]);
  return (r.support.select(1, 1) > 3).to(at::kDouble).mean().item<double>();
}

TEST(RobustBarycenter, SmallTauRemovesOutliersLargeTauApproachesTheClassicalBarycenter) {
  // ~5 % (POT's free_support_barycenter on two other draws of 1000 per
  // input: 5.2 %, 5.9 %; on 400: 7.25 %, the outliers being 5 % of a draw).
  const double exact = exact_classical_outlier_mass();
  std::cerr << "exact classical: outlier mass " << exact << "\n";
  EXPECT_GT(exact, 0.03);
  EXPECT_LT(exact, 0.09);
  const OutlierRun classical = run_outliers(Divergence::kIdentity, 1, kClassicalSteps);
  const OutlierRun robust = run_outliers(Divergence::kKl, 1);
  const OutlierRun loose = run_outliers(Divergence::kKl, 200);
  // Measured: exact classical 5.4 %, identity 3.7-9.4 %, KL tau = 1: 0.3-0.4 %,
  // tau = 200: 3.6 % of the barycenter above y = 3. The classical barycenter must carry the
  // outliers (two of three inputs have 5 %), tau = 1 must drop at least 3/4
  // of the exact classical share, tau = 200 keep at least 40 % of it (its
  // 400 steps leave it short of the classical limit, as they do the
  // balanced solver at 1000).
  EXPECT_GT(classical.outlier_mass, 0.025);
  EXPECT_LT(robust.outlier_mass, 0.25 * exact);
  EXPECT_GT(loose.outlier_mass, 0.4 * exact);
  // Rejection sampling: at tau = 1 an outlier is accepted at least 5x less
  // often than an inlier (measured ~12x); the identity accepts everything.
  EXPECT_LT(robust.accept_outlier, 0.2 * robust.accept_inlier);
  EXPECT_DOUBLE_EQ(classical.accept_outlier, 1.0);
}

TEST(RobustBarycenter, SmallTauUndoesClassImbalance) {
  // The poster's imbalance experiment (upper figure), rebuilt: two-mode
  // mixtures at y = +-2 with weights (0.25, 0.75) and (0.75, 0.25). The
  // classical barycenter must move half of the mass to a spurious middle
  // mode (y ~ 0); the robust one keeps two modes of equal weight.
  auto run = [](Divergence d, double tau, int64_t iterations = 400) {
    RobustBarycenterProblem problem;
    problem.base.marginals = {gmm({-4, 2, -4, -2}, {0.25, 0.75}, 0.4), gmm({4, 2, 4, -2}, {0.75, 0.25}, 0.4)};
    RobustBarycenter solver(problem, small_config(d, tau, iterations));
    solver.train();
    const auto s = solver.model().sample(solver.problem().base.marginals, 8000, 1);
    const at::Tensor y = s.points.select(1, 1);
    const double middle = (y.abs() < 1).to(at::kDouble).mean().item<double>();
    const double top = (y > 1).to(at::kDouble).mean().item<double>();
    std::cerr << to_string(d) << " tau " << tau << ": middle " << middle << ", top " << top << "\n";
    return std::make_pair(middle, top);
  };
  const auto [classical_middle, classical_top] = run(Divergence::kIdentity, 1, kClassicalSteps);
  const auto [robust_middle, robust_top] = run(Divergence::kKl, 1);
  EXPECT_GT(classical_middle, 0.3);  // theory: 0.5
  EXPECT_LT(robust_middle, 0.5 * classical_middle);
  EXPECT_NEAR(robust_top, 0.5, 0.15);  // the class weights are evened out
  (void)classical_top;
}

TEST(RobustBarycenter, CostMapsShiftTheInputSpace) {
  // c_2(x, y) = |x - H_2(y)|^2 / 2 with H_2(y) = y + (4, 0): the second input,
  // centred at (4, 0), is seen as centred at 0, so the barycenter of
  // N(0, I) and N((4, 0), I) under these costs is N(0, I), not N((2, 0), I).
  RobustBarycenterProblem problem;
  problem.base.marginals = {gmm({0, 0}, {1}, 1), gmm({4, 0}, {1}, 1)};
  problem.cost_maps = {nullptr, [](const at::Tensor& y) { return y + at::tensor({4.0, 0.0}, y.options()); }};
  RobustBarycenter solver(problem, small_config(Divergence::kIdentity, 1, 300));
  solver.train();
  const auto s = solver.model().sample(solver.problem().base.marginals, 4000, 1);
  EXPECT_NEAR(s.points.select(1, 0).mean().item<double>(), 0.0, 0.3);  // classical: 2
}

TEST(RobustBarycenter, CheckpointResumeIsBitwiseAndSaveLoadRoundTrips) {
  testing::TempDir dir;
  RobustBarycenterProblem problem;
  problem.base.marginals = {gmm({0, 0}, {1}, 1), gmm({2, 0}, {1}, 1)};
  problem.base.specs = {"a", "b"};
  RobustBarycenterConfig c = small_config(Divergence::kSoftplus, 5, 12);
  c.dtype = "float64";
  c.noise_dim = 2;  // stochastic maps
  RobustBarycenter straight(problem, c);
  straight.train();
  RobustBarycenter first(problem, c);
  struct StopAt : training::TrainingCallback {
    bool on_step(const training::StepInfo& info) override { return info.step == 5; }
  } stop;
  first.train({&stop});
  first.save_checkpoint(dir.file("ckpt.pt"));
  RobustBarycenter resumed(problem, c);
  resumed.load_checkpoint(dir.file("ckpt.pt"));
  resumed.train();
  const at::Tensor x = at::randn({20, 2}, kF64);
  EXPECT_TRUE(at::equal(straight.model().push(0, x, 7), resumed.model().push(0, x, 7)));
  EXPECT_TRUE(at::equal(straight.model().m, resumed.model().m));
  straight.model().save(dir.file("model"));
  const auto loaded = RobustBarycenterModel::load(dir.file("model"));
  EXPECT_TRUE(at::equal(straight.model().push(1, x, 7), loaded.push(1, x, 7)));
  EXPECT_TRUE(at::equal(straight.model().acceptance_weight(1, x), loaded.acceptance_weight(1, x)));
  EXPECT_EQ(loaded.marginal_specs(), problem.base.specs);
}

TEST(RobustBarycenter, RejectsBadProblems) {
  RobustBarycenterProblem one;
  one.base.marginals = {gmm({0, 0}, {1}, 1)};
  EXPECT_THROW(RobustBarycenter(one, small_config(Divergence::kKl, 1, 1)), InvalidArgument);
  RobustBarycenterProblem zero;
  zero.base.marginals = {gmm({0, 0}, {1}, 1), gmm({1, 0}, {1}, 1)};
  zero.base.weights = {1.0, 0.0};
  EXPECT_THROW(RobustBarycenter(zero, small_config(Divergence::kKl, 1, 1)), InvalidArgument);
  RobustBarycenterProblem ok;
  ok.base.marginals = {gmm({0, 0}, {1}, 1), gmm({1, 0}, {1}, 1)};
  EXPECT_THROW(RobustBarycenter(ok, small_config(Divergence::kKl, -1, 1)), InvalidArgument);
  ok.cost_maps = {nullptr};
  EXPECT_THROW(RobustBarycenter(ok, small_config(Divergence::kKl, 1, 1)), InvalidArgument);
}

}  // namespace
}  // namespace wbary::barycenter
