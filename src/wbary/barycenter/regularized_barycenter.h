// File: wbary/barycenter/regularized_barycenter.h
//
// CRWB: continuous regularised Wasserstein barycenters (Li, Genevay,
// Yurochkin, Solomon, NeurIPS 2020; reference/crwb.md §1). The dual of the
// regularised barycenter problem against a fixed reference measure xi (a
// uniform box around the centred data), maximised by SGD over 2N
// unconstrained ReLU potentials:
//
//   max  sum_i a_i E_{x~mu_i, y~xi} [ f_i(x) - R_eps( f_i(x) + gbar_i(y) - |x - y|^2 ) ],
//   gbar_i = g_i - sum_j a_j g_j   (so that sum_i a_i gbar_i = 0 exactly),
//
// with element-wise pairs (x^k, y^k) and one y-batch shared by all i. Each
// marginal is centred by its own mean first; the barycenter is read off as
// T_i # mu_i with T_i(x) = x - grad f_i(x) / 2, re-centred (model.h).
//
// Deviation from the authors' code, on purpose: their box pdf projects with
// the transposed axes (crwb.md §2, item 4), and samples they judge outside
// the box are replaced by box samples; wbary samples the box correctly and
// replaces nothing, and reports the share of data outside the trimmed box.
//
// Example:
//   barycenter::RegularizedBarycenter solver(problem, barycenter::RegularizedBarycenterConfig{});
//   solver.train({&progress});
//   at::Tensor y = solver.result().push(0, x);
#pragma once

#include <memory>

#include "wbary/barycenter/barycenter_solver.h"
#include "wbary/barycenter/regularized_barycenter_config.h"
#include "wbary/barycenter/regularized_barycenter_model.h"

namespace torch::optim {
class Adam;
}

namespace wbary::barycenter {

/// CRWB / CDWB (Li et al. 2020): regularized continuous barycenters on dual potentials.
class RegularizedBarycenter : public BarycenterSolver {
 public:
  /// Validates, fixes the reference box and the marginals' means from
  /// config.box_samples pooled samples, and builds the networks.
  RegularizedBarycenter(BarycenterProblem problem, RegularizedBarycenterConfig config);
  ~RegularizedBarycenter() override;

  training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks = {}) override;
  /// One outer iteration.
  training::StepInfo step();
  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  int64_t steps_done() const override { return step_; }
  /// The problem being solved.
  const BarycenterProblem& problem() const override { return problem_; }
  /// The (averaged) potentials with the pushes re-centred on fresh samples.
  RegularizedBarycenterModel& result() override;
  nlohmann::json& history() override { return model_.history(); }
  std::unique_ptr<BarycenterModel> take_result() override {
    return std::make_unique<RegularizedBarycenterModel>(std::move(result()));
  }
  void save_checkpoint(const std::string& path) const override;
  void load_checkpoint(const std::string& path) override;
  std::string describe() const override;

  /// The model as trained so far.
  const RegularizedBarycenterModel& model() const { return model_; }

 private:
  void update_average();

  BarycenterProblem problem_;
  RegularizedBarycenterModel model_;
  std::unique_ptr<RegularizedBarycenterModel> averaged_;
  std::unique_ptr<torch::optim::Adam> opt_;
  at::Tensor weights_;  ///< a_i, [N] in the network dtype
  int64_t step_ = 0;
  double elapsed_before_ = 0;
};

}  // namespace wbary::barycenter
