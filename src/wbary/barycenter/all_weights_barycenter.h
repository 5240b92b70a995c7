// File: wbary/barycenter/all_weights_barycenter.h
//
// NWB-II: Algorithm 1 of Fan, Taghvaei, Chen (2021) for the barycenters of
// every weight vector at once (supplementary §B). The potentials f_i(x; w),
// g_i(x; w) and the generator h(z, w) take the weight vector as an input;
// each outer iteration trains at one w ~ Dirichlet(alpha) (held for
// weight_repeat iterations, a share of draws replaced by vertices e_k),
// with marginal i's loss terms scaled by w_i as the authors do:
//
//   g-step:  min_g  sum_i w_i E_y~mu_i [ f_i(grad g_i(y; w); w) - <y, grad g_i(y; w)> ]  (+ penalty)
//   f-step:  max_f  sum_i w_i ( E_y f_i(grad g_i(y; w); w) - E_z f_i(h(z, w); w) )
//   h-step:  min_h  E_z [ |h(z, w)|^2 / 2 - sum_i w_i f_i(h(z, w); w) ]
//
// For fixed w this is NWB's objective (eq. 9) for the weights w; the
// networks share what they learn across w. With one w per batch each
// potential is an ICNN at that w (nn/picnn.h), so the fused engine runs the
// ICNN kernels on the effective weights and the small map's chain rule
// (PicnnPotential::backward_at, closed form on the CPU) carries their
// gradient back to the parameters. On the CPU it also runs h(z, w) without
// autograd: at one w, FiLM and h's output affine are per-feature constants
// (nn/generator_cpu.h, ConditionalGeneratorTrainingPass).
//
// Example:
//   barycenter::AllWeightsBarycenter solver(problem, barycenter::AllWeightsBarycenterConfig{});
//   solver.train({&progress});
//   at::Tensor y = solver.result().sample(1000, {0.2, 0.3, 0.5}, /*seed=*/1);
#pragma once

#include <memory>

#include "wbary/barycenter/all_weights_barycenter_model.h"
#include "wbary/barycenter/barycenter_solver.h"
#include "wbary/nn/generator_cpu.h"
#include "wbary/training/schedule_horizon.h"

namespace wbary::nn {
class FlatAdam;
class ModuleAdam;
class IcnnPotential;
}  // namespace wbary::nn

namespace wbary::barycenter {

/// NWB-II: one training that answers for every weight vector (NWB paper §3, supplementary §B).
class AllWeightsBarycenter : public BarycenterSolver {
 public:
  /// Sets up the networks for the problem's marginals; InvalidArgument on a bad config.
  AllWeightsBarycenter(BarycenterProblem problem, AllWeightsBarycenterConfig config);
  ~AllWeightsBarycenter() override;

  training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks = {}) override;
  /// One outer iteration (K_2 f-updates of K_1 g-updates each, one h-update).
  training::StepInfo step();
  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  int64_t steps_done() const override { return step_; }
  /// The problem being solved.
  const BarycenterProblem& problem() const override { return problem_; }
  /// The model that comes out: the averaged networks when config.averaging
  /// > 0 (with the training history), else the last iterate.
  AllWeightsBarycenterModel& result() override;
  nlohmann::json& history() override { return model_.history(); }
  std::unique_ptr<BarycenterModel> take_result() override {
    return std::make_unique<AllWeightsBarycenterModel>(std::move(result()));
  }
  void save_checkpoint(const std::string& path) const override;
  void load_checkpoint(const std::string& path) override;
  std::string describe() const override;

  /// The weight vector outer iteration `step` trains at ([N], float64).
  at::Tensor training_weights(int64_t step) const;

 private:
  /// Detached losses of the last inner updates, per marginal [N].
  struct InnerLosses {
    at::Tensor loss_g, f_mu, f_t;
  };
  void apply_learning_rate_schedule();
  void update_average();
  /// Every tensor the average covers, in one order.
  static std::vector<at::Tensor> averaged_tensors(const AllWeightsBarycenterModel& m);
  /// y: the batch [N, B, d] (f-step); y_g: the g-steps' batches, taken in turn
  /// (config.g_batch_size).
  InnerLosses update_potentials_fused(const at::Tensor& y, const std::vector<at::Tensor>& y_g, const at::Tensor& mu,
                                      const at::Tensor& a);
  InnerLosses update_potentials_autograd(const at::Tensor& y, const std::vector<at::Tensor>& y_g,
                                         const at::Tensor& mu, const at::Tensor& a);

  BarycenterProblem problem_;
  AllWeightsBarycenterModel model_;
  std::unique_ptr<AllWeightsBarycenterModel> averaged_;  ///< config.averaging > 0
  /// Adam on the convex paths' and context paths' flat parameters; h's own.
  std::unique_ptr<nn::FlatAdam> opt_f_convex_, opt_f_context_, opt_g_convex_, opt_g_context_;
  std::unique_ptr<nn::ModuleAdam> opt_h_;
  /// The ICNNs f_i(.; w), g_i(.; w) at the current w, for the kernels.
  std::unique_ptr<nn::IcnnPotential> f_at_w_, g_at_w_;
  nn::cpu::ConditionalGeneratorTrainingPass h_pass_;  ///< h's forward and backward without a graph (fused engine)
  int64_t step_ = 0;
  training::ScheduleHorizon horizon_{0, 0};  ///< set in the constructor; the schedule's length (config.schedule_seconds)
  double elapsed_before_ = 0;
};

}  // namespace wbary::barycenter
