// The W2 map solver end to end: Gaussian-to-Gaussian against the closed-form
// Brenier map, save / load / checkpoint-resume, the known-map benchmark pairs.
#include "wbary/maps/w2_map.h"

#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <iostream>

#include "support/test_support.h"
#include "wbary/data/gaussian.h"
#include "wbary/error.h"
#include "wbary/maps/known_map_pair.h"
#include "wbary/metrics/gaussian.h"
#include "wbary/metrics/transport_map.h"
#include "wbary/ot/exact_transport.h"

namespace wbary::maps {
namespace {

struct GaussianCase {
  std::shared_ptr<data::GaussianSampler> p, q;
  at::Tensor A, shift;  // T*(x) = A x + shift
};

GaussianCase gaussian_case(int64_t d) {
  GaussianCase g;
  g.p = std::make_shared<data::GaussianSampler>(data::GaussianSampler::random(d, 11 + d, 0.5, 2.0));
  g.q = std::make_shared<data::GaussianSampler>(data::GaussianSampler::random(d, 23 + d, 0.5, 2.0, /*shift=*/1.0));
  const auto mp = *g.p->gaussian(), mq = *g.q->gaussian();
  g.A = metrics::gaussian_map_matrix(mp.covariance, mq.covariance);
  g.shift = mq.mean - at::mv(g.A, mp.mean);
  return g;
}

double gaussian_uvp(const W2MapModel& model, const GaussianCase& g) {
  at::Generator gen = data::make_generator(99);
  const at::Tensor x = g.p->sample(4096, gen);
  const at::Tensor truth = at::addmm(g.shift, x, g.A.t());
  return metrics::l2_uvp(model.forward(x), truth, at::trace(g.q->gaussian()->covariance).item<double>());
}

W2MapConfig small_config(int64_t iterations) {
  W2MapConfig c;
  c.iterations = iterations;
  c.batch_size = 256;
  c.learning_rate = 2e-3;
  c.hidden = {64, 64, 32};
  return c;
}

TEST(W2Map, LearnsTheGaussianMapWithEachPotentialAndLoss) {
  struct Case {
    int64_t d;
    PotentialKind potential;
    AmortizationLoss loss;
    ConjugateSolverKind solver;
  };
  // Amos's best (MLP, regression, L-BFGS) at d = 2, 4, 8, and the other
  // potential / losses / solvers once each.
  const Case cases[] = {{2, PotentialKind::kMlp, AmortizationLoss::kRegression, ConjugateSolverKind::kLbfgs},
                        {4, PotentialKind::kMlp, AmortizationLoss::kRegression, ConjugateSolverKind::kLbfgs},
                        {8, PotentialKind::kMlp, AmortizationLoss::kRegression, ConjugateSolverKind::kLbfgs},
                        {4, PotentialKind::kIcnn, AmortizationLoss::kObjective, ConjugateSolverKind::kAdam},
                        {4, PotentialKind::kIcnn, AmortizationLoss::kCycle, ConjugateSolverKind::kNone}};
  for (const Case& k : cases) {
    GaussianCase g = gaussian_case(k.d);
    W2MapConfig c = small_config(600);
    c.potential = k.potential;
    c.amortization = k.loss;
    c.conjugate.kind = k.solver;
    W2Map solver({g.p, g.q, "", ""}, c);
    const auto summary = solver.train();
    EXPECT_TRUE(summary.finished);
    const double uvp = gaussian_uvp(solver.model(), g);
    // The bar: L2-UVP < 1 % at d = 2..8. Measured 0.1-0.6 % at 500
    // steps; 600 steps leave margin for the float32 round-off across BLAS builds.
    EXPECT_LT(uvp, 1.0) << "d=" << k.d << " " << to_string(k.potential) << " " << to_string(k.loss) << " "
                        << to_string(k.solver);
    // The inverse map (fine-tuned conjugate) sends T*(x) back to x.
    at::Generator gen = data::make_generator(5);
    const at::Tensor x = g.p->sample(2048, gen);
    const at::Tensor y = at::addmm(g.shift, x, g.A.t());
    const double inverse_uvp =
        metrics::l2_uvp(solver.model().inverse(y), x, at::trace(g.p->gaussian()->covariance).item<double>());
    EXPECT_LT(inverse_uvp, 2.0) << "d=" << k.d << " " << to_string(k.potential);
    // The dual's W2^2 estimate on the last batch is near the closed form (batch noise: 256 samples).
    const double w2 = metrics::bures_wasserstein_squared(*g.p->gaussian(), *g.q->gaussian());
    EXPECT_NEAR(summary.last.loss("w2_sq"), w2, 0.25 * w2 + 0.2) << "d=" << k.d;
    // The model's dual objective on fresh samples gives W2^2 more precisely
    // (2048 samples, fine-tuned conjugates): within 10 % here.
    const at::Tensor ys = g.q->sample(2048, gen);
    const double dual = solver.model().dual_objective(x, ys);
    const double second = ((x * x).sum(1).mean() + (ys * ys).sum(1).mean()).item<double>();
    EXPECT_NEAR(second - 2 * dual, w2, 0.1 * w2 + 0.05) << "d=" << k.d;
  }
}

TEST(W2Map, CheckpointResumeIsBitwiseAndSaveLoadRoundTrips) {
  testing::TempDir dir;
  GaussianCase g = gaussian_case(3);
  W2MapConfig c = small_config(20);
  c.dtype = "float64";
  W2Map straight({g.p, g.q, "p", "q"}, c);
  straight.train();

  W2Map first({g.p, g.q, "p", "q"}, c);
  struct StopAt : training::TrainingCallback {
    bool on_step(const training::StepInfo& info) override { return info.step == 9; }
  } stop;
  first.train({&stop});
  ASSERT_EQ(first.steps_done(), 9);
  first.save_checkpoint(dir.file("ckpt.pt"));
  W2Map resumed({g.p, g.q, "p", "q"}, c);
  resumed.load_checkpoint(dir.file("ckpt.pt"));
  EXPECT_EQ(resumed.steps_done(), 9);
  resumed.train();
  at::Generator gen = data::make_generator(3);
  const at::Tensor x = g.p->sample(100, gen);
  EXPECT_TRUE(at::equal(straight.model().forward(x), resumed.model().forward(x)));

  straight.model().save(dir.file("model"));
  const W2MapModel loaded = W2MapModel::load(dir.file("model"));
  EXPECT_TRUE(at::equal(straight.model().forward(x), loaded.forward(x)));
  EXPECT_TRUE(at::equal(straight.model().amortized_inverse(x), loaded.amortized_inverse(x)));
  EXPECT_EQ(loaded.source_spec(), "p");
  EXPECT_EQ(loaded.history().size(), straight.model().history().size());

  // A checkpoint from another configuration is refused, naming the file.
  W2MapConfig other = c;
  other.learning_rate = 1e-4;
  W2Map mismatched({g.p, g.q, "p", "q"}, other);
  EXPECT_THROW(mismatched.load_checkpoint(dir.file("ckpt.pt")), InvalidArgument);
  EXPECT_THROW(W2MapModel::load(dir.file("missing")), IoError);
}

TEST(MlpPotential, ClosedFormValueAndGradientEqualAutograd) {
  // The chain rule written out (ELU's derivative from its output) against
  // autograd through value(), float64, random non-zero output layer (a fresh
  // potential's is zero) and a non-zero log_alpha.
  at::Generator gen = data::make_generator(5);
  MlpPotential f(6, {16, 12, 8}, gen, at::kDouble);
  {
    torch::NoGradGuard ng;
    for (auto& p : f.parameters()) p.add_(0.3 * at::randn(p.sizes(), gen, at::kDouble));
  }
  const at::Tensor x = 2 * at::randn({40, 6}, gen, at::kDouble);
  at::Tensor v, g;
  f.value_and_gradient(x, v, g);
  at::Tensor v_ref;
  {
    torch::NoGradGuard ng;
    v_ref = f.value(x);
  }
  EXPECT_TRUE(at::equal(v, v_ref));  // the same forward operations
  const at::Tensor g_ref = f.MapPotential::gradient(x);
  // exp(a) against elu(a) + 1: a few ulps per layer.
  EXPECT_TRUE(at::allclose(g, g_ref, 1e-12, 1e-12)) << (g - g_ref).abs().max().item<double>();
  EXPECT_TRUE(at::allclose(f.gradient(x), g_ref, 1e-12, 1e-12));
  // With a graph (cycle losses) the gradient stays autograd's.
  EXPECT_TRUE(f.gradient(x.clone().requires_grad_(true), /*create_graph=*/true).requires_grad());
}

TEST(MlpPotential, WrittenOutParameterGradientsEqualAutograd) {
  // The fused engine's f-step (E f(x) - E f(x')) and H-step (E|H(y) - t|^2)
  // gradients in every parameter against autograd, float64. Adam's update is
  // nearly invariant to a gradient's scale, so a training trajectory would
  // not notice a wrong factor: this compares the gradients themselves.
  at::Generator gen = data::make_generator(6);
  MlpPotential f(5, {16, 12, 8}, gen, at::kDouble);
  ResidualMlp H(5, {16, 12, 8}, gen, at::kDouble);
  {
    torch::NoGradGuard ng;
    for (auto& p : f.parameters()) p.add_(0.3 * at::randn(p.sizes(), gen, at::kDouble));
    for (auto& p : H.parameters()) p.add_(0.3 * at::randn(p.sizes(), gen, at::kDouble));
  }
  const at::Tensor x = at::randn({30, 5}, gen, at::kDouble), x2 = 2 * at::randn({20, 5}, gen, at::kDouble);
  auto grads_of = [](torch::nn::Module& m) {
    std::vector<at::Tensor> out;
    for (const auto& p : m.parameters()) out.push_back(p.grad().clone());
    return out;
  };
  auto expect_equal = [](const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, const char* what) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      // Sums in another order: round-off only.
      EXPECT_TRUE(at::allclose(a[k], b[k], 1e-12, 1e-12)) << what << " parameter " << k << ": "
                                                           << (a[k] - b[k]).abs().max().item<double>();
    }
  };
  const at::Tensor value = f.mean_difference_backward(x, x2);
  const auto fused_f = grads_of(f);
  for (auto& p : f.parameters()) p.mutable_grad() = at::Tensor();
  const at::Tensor reference = f.value(x).mean() - f.value(x2).mean();
  reference.backward();
  EXPECT_NEAR(value.item<double>(), reference.item<double>(), 1e-12);
  expect_equal(fused_f, grads_of(f), "f");

  const at::Tensor target = at::randn({30, 5}, gen, at::kDouble);
  const at::Tensor loss = H.regression_backward(x, target);
  const auto fused_h = grads_of(H);
  for (auto& p : H.parameters()) p.mutable_grad() = at::Tensor();
  const at::Tensor reference_loss = (H.forward(x) - target).pow(2).mean();
  reference_loss.backward();
  EXPECT_NEAR(loss.item<double>(), reference_loss.item<double>(), 1e-12);
  expect_equal(fused_h, grads_of(H), "H");
}

TEST(W2Map, FusedEngineTracksTheAutogradEngine) {
  // Same seed, float64: the engines differ only in round-off (the closed-form
  // gradient above) and in which rows of the conjugate solve reuse a
  // gradient computed for the same point, so 30 steps (each an L-BFGS solve
  // and two AdamW updates) agree to 1e-9 relative in the losses and the map.
  GaussianCase g = gaussian_case(4);
  W2MapConfig c = small_config(30);
  c.dtype = "float64";
  c.engine = nn::Engine::kFused;
  W2Map fused({g.p, g.q, "p", "q"}, c);
  c.engine = nn::Engine::kAutograd;
  W2Map reference({g.p, g.q, "p", "q"}, c);
  for (int k = 0; k < 30; ++k) {
    const training::StepInfo a = fused.step();
    const training::StepInfo b = reference.step();
    for (const char* name : {"dual", "amortization", "conj_iters"}) {
      EXPECT_NEAR(a.loss(name), b.loss(name), 1e-9 * std::max(1.0, std::abs(b.loss(name)))) << name << " step " << k;
    }
  }
  at::Generator gen = data::make_generator(3);
  const at::Tensor x = g.p->sample(200, gen);
  EXPECT_TRUE(at::allclose(fused.model().forward(x), reference.model().forward(x), 1e-9, 1e-9));
}

TEST(W2Map, RejectsBadProblemsAndConfigs) {
  GaussianCase g = gaussian_case(2);
  auto g3 = std::make_shared<data::GaussianSampler>(data::GaussianSampler::random(3, 1));
  EXPECT_THROW(W2Map({g.p, g3, "", ""}, small_config(1)), InvalidArgument);
  W2MapConfig c = small_config(1);
  c.conjugate.kind = ConjugateSolverKind::kNone;  // regression needs a fine-tuned target
  EXPECT_THROW(W2Map({g.p, g.q, "", ""}, c), InvalidArgument);
  EXPECT_THROW(parse_amortization_loss("w2gn"), InvalidArgument);
  EXPECT_THROW(parse_potential_kind("resnet"), InvalidArgument);
  W2Map ok({g.p, g.q, "", ""}, small_config(1));
  EXPECT_THROW(ok.model().forward(at::zeros({4, 3}, at::kDouble)), InvalidArgument);
}

TEST(KnownMapPair, TheMapIsTheGradientOfAConvexPotential) {
  for (int64_t d : {2, 16}) {
    const KnownMapPair pair = KnownMapPair::make(d, /*seed=*/0);
    at::Generator gen = data::make_generator(1);
    const at::Tensor x = pair.source()->sample(256, gen);
    // The closed-form gradient is the gradient of the value (autograd reference).
    const at::Tensor xr = x.clone().requires_grad_(true);
    const at::Tensor auto_grad = torch::autograd::grad({pair.potential().value(xr).sum()}, {xr})[0];
    EXPECT_LT(testing::relative_error(pair.optimal_map(x), auto_grad), 1e-12);
    // Convexity along random segments: psi(mid) <= mean of the ends (and the
    // gradient map is monotone: <T(x) - T(z), x - z> >= 0).
    const at::Tensor z = pair.source()->sample(256, gen);
    const at::Tensor mid = pair.potential().value(0.5 * (x + z));
    const at::Tensor ends = 0.5 * (pair.potential().value(x) + pair.potential().value(z));
    EXPECT_TRUE((mid <= ends + 1e-12).all().item<bool>());
    const at::Tensor mono = ((pair.optimal_map(x) - pair.optimal_map(z)) * (x - z)).sum(1);
    EXPECT_TRUE((mono >= -1e-12).all().item<bool>());
  }
}

TEST(KnownMapPair, PairingBySourceAndMapIsOptimalAndStandardised) {
  const int64_t d = 4, n = 200;
  const KnownMapPair pair = KnownMapPair::make(d, /*seed=*/0);
  at::Generator gen = data::make_generator(2);
  const at::Tensor x = pair.source()->sample(n, gen);
  const at::Tensor y = pair.optimal_map(x);
  // Brenier: the coupling x_i -> T*(x_i) is the optimal one between the two
  // empirical measures, so the exact solver finds the same cost.
  const double paired = (x - y).pow(2).sum(1).mean().item<double>();
  const double exact = ot::exact_w2(x, y).cost;
  EXPECT_NEAR(exact, paired, 1e-9 * paired);
  // Standardised target: mean ~ 0 and total variance ~ d (Korotin's
  // standardize_potential), up to the sampling error of 2^14 moment samples.
  const at::Tensor t = pair.target()->sample(1 << 14, gen);
  EXPECT_LT(t.mean(0).abs().max().item<double>(), 0.05);
  EXPECT_NEAR(pair.target_variance(), static_cast<double>(d), 0.05 * d);
  // Not trivial: the linear (Gaussian) map is measurably wrong on it.
  const at::Tensor xs = pair.source()->sample(4096, gen);
  const double linear_uvp = metrics::l2_uvp(pair.linear_baseline()(xs), pair.optimal_map(xs), pair.target_variance());
  EXPECT_GT(linear_uvp, 2.0);
  std::cerr << "linear baseline L2-UVP at d = " << d << ": " << linear_uvp << " %\n";
}

}  // namespace
}  // namespace wbary::maps
