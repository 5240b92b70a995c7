// File: wbary/barycenter/continuous_barycenter.h
//
// CWB: continuous W2 barycenters without minimax optimisation (Korotin, Li,
// Solomon, Burnaev, ICLR 2021; reference/cw2b.md §2.1). One loss, no inner
// loops: with psi_i (marginal -> barycenter) and psibar_i (its conjugate),
//
//   L = sum_i a_i E_x~mu_i [ <x, sg(grad psi_i(x))> - psibar_i(sg(grad psi_i(x))) ]     (trains psibar)
//     + lambda_cyc  sum_i a_i E_x~mu_i mean_coords |grad psibar_i(grad psi_i(x)) - x|^2  (trains both)
//     + lambda_cong E_y~Q~ relu( sum_i a_i psibar_i(y) - |y|^2 / 2 )                      (congruence)
//
// sg = stop-gradient; Q~ = N(0, I) samples and the detached pushes grad
// psi_i(x_i) of every marginal; W >= 0 clamped after every step
// ("convexify"). All 2N networks start as copies of one ICNN pre-trained to
// the identity map. The estimate of the barycenter is grad psi_i # mu_i.
//
// Example:
//   barycenter::ContinuousBarycenter solver(problem, barycenter::ContinuousBarycenterConfig{});
//   solver.train({&progress});
//   at::Tensor y = solver.result().push(0, x);
#pragma once

#include <memory>

#include "wbary/barycenter/barycenter_solver.h"
#include "wbary/barycenter/continuous_barycenter_config.h"
#include "wbary/barycenter/continuous_barycenter_model.h"

namespace wbary::nn {
class FlatAdam;
}

namespace wbary::barycenter {

/// CWB (Li et al. 2020): the continuous regularized barycenter's unregularized variant on ICNN potentials.
class ContinuousBarycenter : public BarycenterSolver {
 public:
  /// Validates, builds the networks and pre-trains them to the identity.
  ContinuousBarycenter(BarycenterProblem problem, ContinuousBarycenterConfig config);
  ~ContinuousBarycenter() override;

  training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks = {}) override;
  /// One step of the loss above.
  training::StepInfo step();
  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  int64_t steps_done() const override { return step_; }
  /// The problem being solved.
  const BarycenterProblem& problem() const override { return problem_; }
  ContinuousBarycenterModel& result() override { return model_; }
  nlohmann::json& history() override { return model_.history(); }
  std::unique_ptr<BarycenterModel> take_result() override {
    return std::make_unique<ContinuousBarycenterModel>(std::move(result()));
  }
  void save_checkpoint(const std::string& path) const override;
  void load_checkpoint(const std::string& path) override;
  std::string describe() const override;

  /// Steps the identity pre-training took and its final MSE.
  int64_t pretrain_steps() const { return pretrain_steps_; }
  /// Mean squared error of the pre-training (grad psi_i fitted to the identity) when it stopped.
  double pretrain_mse() const { return pretrain_mse_; }

 private:
  /// The loss terms of one step (detached) and t = grad psi_i(x); the
  /// parameter gradients are left in the networks' gradient views.
  struct Losses {
    at::Tensor dual, cycle, congruence, push;
  };
  void pretrain_to_identity();
  Losses gradients_autograd(const at::Tensor& x, const at::Tensor& proposal);
  Losses gradients_fused(const at::Tensor& x, const at::Tensor& proposal);

  BarycenterProblem problem_;
  ContinuousBarycenterModel model_;
  std::unique_ptr<nn::FlatAdam> opt_psi_, opt_conj_;
  at::Tensor weights_;  ///< a_i, [N] in the network dtype
  int64_t step_ = 0;
  double elapsed_before_ = 0;
  int64_t pretrain_steps_ = 0;
  double pretrain_mse_ = 0;
};

}  // namespace wbary::barycenter
