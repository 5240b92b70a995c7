#include <gtest/gtest.h>

#include "support/test_support.h"
#include "wbary/barycenter/evaluation.h"
#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/barycenter/neural_barycenter.h"
#include "wbary/data/gaussian.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/metrics/gaussian.h"

namespace wbary::barycenter {
namespace {

// A short schedule: Algorithm 1 with the reference's networks and learning
// rates, the x0.1 decay brought forward so that the run settles within the
// test budget (the reference decays after 12000 of 24000 steps).
NeuralBarycenterConfig short_config(int64_t iterations, int64_t decay_at) {
  NeuralBarycenterConfig c;
  c.iterations = iterations;
  c.lr_decay_every = decay_at;
  return c;
}

class ThreeGaussians : public ::testing::TestWithParam<Engine> {};

TEST_P(ThreeGaussians, In2dReachBelowOnePercentUvp) {
  at::set_num_threads(2);
  NeuralBarycenterConfig c = short_config(700, 400);
  c.engine = GetParam();
  NeuralBarycenter solver(testing::problem_of({"gaussian:dim=2,seed=1", "gaussian:dim=2,seed=2", "gaussian:dim=2,seed=3"}), c);
  solver.train();
  const auto e = evaluate_gaussian(solver.model(), solver.problem(), 20000, 11);
  ASSERT_TRUE(e.has_value());
  // Fan et al. report < 1 % at d = 2 after full training; measured here
  // 0.05-0.23 % (h) and 0.10-0.24 % (push) over seeds and engines. Sampling
  // noise of the UVP estimate with 20000 samples at d = 2 is ~0.02 %.
  EXPECT_LT(e->uvp_generator.value(), 1.0);
  EXPECT_LT(e->uvp_push, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Engines, ThreeGaussians, ::testing::Values(Engine::kFused, Engine::kAutograd),
                         [](const auto& info) { return to_string(info.param); });

TEST(NeuralBarycenter, FusedEngineTracksTheAutogradEngine) {
  // Same seed, float64: the engines compute the same gradients in a
  // different order (agreement ~1e-15 per step, tests/nn/icnn_kernels_test),
  // so their Adam trajectories stay together; over 10 outer iterations
  // (240 g-updates) the parameters agree to 1e-7 relative.
  at::set_num_threads(1);
  const auto problem = testing::problem_of({"gaussian:dim=3,seed=1", "gaussian:dim=3,seed=2"});
  NeuralBarycenterConfig c = short_config(10, 1000);
  c.batch_size = 32;
  c.dtype = "float64";
  c.engine = Engine::kFused;
  NeuralBarycenter fused(problem, c);
  c.engine = Engine::kAutograd;
  NeuralBarycenter reference(problem, c);
  for (int k = 0; k < 10; ++k) {
    const training::StepInfo a = fused.step();
    const training::StepInfo b = reference.step();
    for (const char* name : {"loss_g", "loss_f", "loss_h", "barycenter_cost"}) {
      EXPECT_NEAR(a.loss(name), b.loss(name), 1e-7 * std::max(1.0, std::abs(b.loss(name)))) << name << " step " << k;
    }
  }
  EXPECT_LT(testing::relative_error(fused.model().g->flat_parameters(), reference.model().g->flat_parameters()), 1e-7);
  EXPECT_LT(testing::relative_error(fused.model().f->flat_parameters(), reference.model().f->flat_parameters()), 1e-7);
  const at::Tensor x = at::randn({20, 3}, at::kDouble);
  EXPECT_LT(testing::relative_error(fused.model().push(0, x), reference.model().push(0, x)), 1e-7);
}

TEST(NeuralBarycenter, SingleMarginalIsTheGanModeAndRecoversTheGaussian) {
  at::set_num_threads(2);
  NeuralBarycenter solver(testing::problem_of({"gaussian:dim=2,seed=5,shift=1"}), short_config(500, 300));
  solver.train();
  const auto e = evaluate_gaussian(solver.model(), solver.problem(), 20000, 3);
  ASSERT_TRUE(e.has_value());
  EXPECT_LT(e->uvp_generator.value(), 2.0);  // §3.4: h#eta = mu_1; a generative model of a Gaussian
  EXPECT_LT(e->uvp_push, 2.0);       // grad g_1 ~ identity
}

TEST(NeuralBarycenter, NonUniformWeightsMoveTheBarycenterAsTheClosedFormSays) {
  at::set_num_threads(2);
  const std::vector<std::string> specs = {"gaussian:dim=2,seed=1,shift=-2", "gaussian:dim=2,seed=2,shift=2"};
  NeuralBarycenter solver(testing::problem_of(specs, {0.8, 0.2}), short_config(600, 350));
  solver.train();
  const auto e = evaluate_gaussian(solver.model(), solver.problem(), 20000, 5);
  ASSERT_TRUE(e.has_value());
  EXPECT_LT(e->uvp_generator.value(), 2.0);
  // The equal-weight barycenter is far from the (0.8, 0.2) one: the learned
  // model must be much closer to the right one (mean -1.2 vs 0 per coordinate).
  const auto uniform = exact_gaussian_barycenter(testing::problem_of(specs, {0.5, 0.5}));
  const double uvp_uniform = metrics::bw2_uvp(solver.model().sample(20000, 5), *uniform);
  EXPECT_GT(uvp_uniform, 10 * e->uvp_generator.value());
  const at::Tensor mean = solver.model().sample(20000, 6).mean(0);
  EXPECT_NEAR(mean[0].item<double>(), -1.2, 0.1);  // 0.8 * -2 + 0.2 * 2
}

TEST(NeuralBarycenter, ResumeFromCheckpointReproducesTheUninterruptedRun) {
  at::set_num_threads(1);
  testing::TempDir dir;
  const auto problem = testing::problem_of({"gaussian:dim=3,seed=1", "mixture:dim=3,k=3"});
  NeuralBarycenterConfig c = short_config(6, 4);  // the LR decay falls inside the resumed part
  c.batch_size = 16;
  c.averaging = 0.7;  // the averaged networks are part of the state
  NeuralBarycenter straight(problem, c);
  straight.train();

  NeuralBarycenter first(problem, c);
  struct StopAt : training::TrainingCallback {
    bool on_step(const training::StepInfo& info) override { return info.step == 3; }
  } stop;
  first.train({&stop});
  ASSERT_EQ(first.steps_done(), 3);
  first.save_checkpoint(dir.file("ck.pt"));
  NeuralBarycenter resumed(problem, c);
  resumed.load_checkpoint(dir.file("ck.pt"));
  EXPECT_EQ(resumed.steps_done(), 3);
  resumed.train();

  auto a = straight.model().h->named_parameters();
  auto b = resumed.model().h->named_parameters();
  for (const auto& p : a) EXPECT_TRUE(at::equal(p.value(), b[p.key()])) << "h." << p.key();
  auto fa = straight.model().g->named_parameters();
  auto fb = resumed.model().g->named_parameters();
  for (const auto& p : fa) EXPECT_TRUE(at::equal(p.value(), fb[p.key()])) << "g." << p.key();
  EXPECT_TRUE(at::equal(straight.model().sample(50, 1), resumed.model().sample(50, 1)));
  EXPECT_TRUE(at::equal(straight.result().g->flat_parameters(), resumed.result().g->flat_parameters()));
  EXPECT_TRUE(at::equal(straight.result().sample(50, 1), resumed.result().sample(50, 1)));
}

TEST(NeuralBarycenter, AveragingIsAnExponentialMovingAverageOfTheIterates) {
  at::set_num_threads(1);
  const auto problem = testing::problem_of({"gaussian:dim=2,seed=1", "gaussian:dim=2,seed=2"});
  NeuralBarycenterConfig c = short_config(2, 100);
  c.batch_size = 16;
  c.averaging = 0;
  NeuralBarycenter last(problem, c);
  const at::Tensor f0 = last.model().f->flat_parameters().clone();
  last.step();
  const at::Tensor f1 = last.model().f->flat_parameters().clone();
  last.step();
  c.averaging = 0.25;
  NeuralBarycenter averaged(problem, c);
  averaged.train();
  // The same iterates (averaging does not feed back into training)...
  EXPECT_TRUE(at::equal(averaged.model().f->flat_parameters(), last.model().f->flat_parameters()));
  // ...and the output is d2 (d1 f0 + (1 - d1) f1) + (1 - d2) f2 with the
  // ramped decays d_t = min(0.25, (1 + t) / (10 + t)), to float32 round-off.
  const double d1 = 2.0 / 11, d2 = 0.25;
  const at::Tensor want = d2 * (d1 * f0 + (1 - d1) * f1) + (1 - d2) * last.model().f->flat_parameters();
  EXPECT_LT((averaged.result().f->flat_parameters() - want).abs().max().item<double>(), 1e-6);
  EXPECT_EQ(&last.result(), &last.model());  // no averaging: the last iterate comes out
}

TEST(NeuralBarycenter, PretrainingStartsTheMapsAtTheIdentity) {
  at::set_num_threads(1);
  NeuralBarycenterConfig c = short_config(0, 100);
  c.pretrain_iterations = 3000;
  c.averaging = 0.5;  // the averaged copy starts from the pre-trained networks too
  NeuralBarycenter solver(testing::problem_of({"gaussian:dim=3,seed=1", "gaussian:dim=3,seed=2"}), c);
  // The fit stops at MSE 1e-2 per coordinate on x ~ 4 N(0, I) (variance 16):
  // the gradient maps are the identity to ~0.1 / 4 relative there.
  const at::Tensor x = 2 * at::randn({500, 3}, at::kDouble);
  for (const NeuralBarycenterModel* m : {&solver.model(), &solver.result()}) {
    for (int64_t i = 0; i < 2; ++i) {
      EXPECT_LT((m->push(i, x) - x).pow(2).mean().item<double>(), 2e-2);
      EXPECT_LT((m->pull(i, x) - x).pow(2).mean().item<double>(), 2e-2);
    }
  }
}

TEST(NeuralBarycenter, CheckpointOfAnotherProblemIsRefused) {
  at::set_num_threads(1);
  testing::TempDir dir;
  NeuralBarycenterConfig c = short_config(2, 100);
  c.batch_size = 8;
  NeuralBarycenter a(testing::problem_of({"gaussian:dim=2,seed=1"}), c);
  a.train();
  a.save_checkpoint(dir.file("ck.pt"));
  NeuralBarycenter b(testing::problem_of({"gaussian:dim=3,seed=1"}), c);
  EXPECT_THROW(b.load_checkpoint(dir.file("ck.pt")), InvalidArgument);
  EXPECT_THROW(b.load_checkpoint(dir.file("missing.pt")), IoError);
}

TEST(NeuralBarycenter, DivergenceIsReportedNotSilent) {
  at::set_num_threads(1);
  NeuralBarycenterConfig c = short_config(50, 1000);
  c.batch_size = 16;
  c.lr_g = c.lr_f = c.lr_h = 1e6;  // absurd step sizes blow the losses up
  NeuralBarycenter solver(testing::problem_of({"gaussian:dim=2,seed=1,shift=100", "gaussian:dim=2,seed=2"}), c);
  EXPECT_THROW(solver.train(), DivergenceError);
}

TEST(NeuralBarycenterModel, SaveLoadRoundTripAndVersionCheck) {
  at::set_num_threads(1);
  testing::TempDir dir;
  NeuralBarycenterConfig c = short_config(3, 100);
  c.batch_size = 8;
  NeuralBarycenter solver(testing::problem_of({"gaussian:dim=2,seed=1", "gaussian:dim=2,seed=2"}), c);
  solver.train();
  solver.model().save(dir.path());
  auto loaded = NeuralBarycenterModel::load(dir.path());
  const at::Tensor x = at::randn({10, 2}, at::kDouble);
  EXPECT_TRUE(at::allclose(loaded.push(1, x), solver.model().push(1, x)));
  EXPECT_TRUE(at::allclose(loaded.pull(0, x), solver.model().pull(0, x)));
  EXPECT_TRUE(at::allclose(loaded.sample(20, 4), solver.model().sample(20, 4)));
  EXPECT_THROW(loaded.push(2, x), InvalidArgument);
  EXPECT_THROW(loaded.push(0, at::randn({10, 3}, at::kDouble)), InvalidArgument);

  std::string meta = io::read_text(dir.file("model.json"));
  meta.replace(meta.find("\"format_version\": 1"), 19, "\"format_version\": 99");
  io::write_text_atomically(dir.file("model.json"), meta);
  EXPECT_THROW(NeuralBarycenterModel::load(dir.path()), IoError);
}

}  // namespace
}  // namespace wbary::barycenter
