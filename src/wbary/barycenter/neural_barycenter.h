// File: wbary/barycenter/neural_barycenter.h
//
// The neural Wasserstein barycenter solver (NWB; Fan, Taghvaei, Chen, ICML
// 2021, Algorithm 1): convex potentials f_i, g_i (ICNNs) and a generator h
// trained by the min-max-min problem (9)
//
//   min_h  max_{f_i}  min_{g_i}  E|h(Z)|^2/2 + sum_i a_i Vbar(f_i, g_i),
//   Vbar = -E f_i(h(Z)) - E[<Y_i, grad g_i(Y_i)> - f_i(grad g_i(Y_i))],
//
// with K_1 g-updates per f-update and K_2 f-updates per h-update on each
// batch. N = 1 is the GAN mode of §3.4. The result is a
// NeuralBarycenterModel; training can be stopped by callbacks, checkpointed
// and resumed bit-for-bit (same seed and thread count).
//
// Example:
//   barycenter::NeuralBarycenterConfig cfg;
//   cfg.iterations = 2000;
//   barycenter::NeuralBarycenter solver(problem, cfg);
//   solver.train({&progress});
//   at::Tensor y = solver.model().sample(1000, /*seed=*/1);
//
// Marginal-parallel training (DESIGN.md §4): given a MarginalParallel, each
// process trains only the f_i, g_i of the marginals it owns, reads only their
// data, and keeps a replica of h; the h-step all-reduces the a_i-weighted
// sum of grad f_i(h(Z)) over ranks. Batches and latents are the same pure
// functions of (seed, marginal, step) as in one process, so a distributed run
// computes the single-process iterates up to the order of one floating-point
// sum. Checkpoints and the result are assembled into the single-process
// layout: a checkpoint resumes with any number of processes (or one).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "wbary/barycenter/barycenter_solver.h"
#include "wbary/barycenter/neural_barycenter_config.h"
#include "wbary/barycenter/neural_barycenter_model.h"
#include "wbary/barycenter/problem.h"
#include "wbary/distributed/marginal_partition.h"
#include "wbary/nn/generator_cpu.h"
#include "wbary/nn/identity_fit.h"
#include "wbary/training/schedule_horizon.h"
#include "wbary/training/training.h"

namespace wbary::nn {
class FlatAdam;
class ModuleAdam;
}
namespace wbary::distributed {
class ProcessGroup;
}

namespace wbary::barycenter {

/// How a marginal-parallel run is laid out: the process group and which
/// rank owns which marginal. `problem.marginals` holds the owned marginals'
/// samplers and distributed::RemoteMarginal for the others.
struct MarginalParallel {
  std::shared_ptr<distributed::ProcessGroup> group;  ///< the ranks taking part
  distributed::MarginalPartition partition;  ///< which rank trains which marginal's f_i, g_i
};

/// NWB (Fan et al. 2021, Algorithm 1): ICNN potentials f_i, g_i and a generator h in a min-max-min loop.
class NeuralBarycenter : public BarycenterSolver {
 public:
  /// Validates the problem and config (InvalidArgument names the field)
  /// and builds fresh networks and optimisers.
  /// With `parallel`, construction is collective (every rank of the group).
  NeuralBarycenter(BarycenterProblem problem, NeuralBarycenterConfig config,
                   std::optional<MarginalParallel> parallel = std::nullopt);
  ~NeuralBarycenter() override;

  /// Runs outer iterations until config.iterations or until a callback
  /// returns true. May be called again to continue. Throws DivergenceError
  /// at the first non-finite loss, naming the step and the loss.
  training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks = {}) override;

  /// Runs exactly one outer iteration (Algorithm 1's body) and reports it.
  training::StepInfo step();

  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  int64_t steps_done() const override { return step_; }
  /// The networks being trained (the last iterate); in a marginal-parallel
  /// run, this rank's marginals only (see owned()).
  const NeuralBarycenterModel& model() const { return model_; }
  /// The model as trained so far.
  NeuralBarycenterModel& model() { return model_; }
  /// The problem being solved.
  const BarycenterProblem& problem() const override { return problem_; }
  std::string describe() const override;
  /// The model that comes out: the averaged networks when config.averaging
  /// > 0 (with the training history), the last iterate otherwise. In a
  /// marginal-parallel run it is assembled from every rank (collective) and
  /// holds all N marginals.
  NeuralBarycenterModel& result() override;
  /// The marginals this process trains (0-based; all of them in one process).
  const std::vector<int64_t>& owned() const { return owned_; }
  nlohmann::json& history() override { return model_.history(); }
  std::unique_ptr<BarycenterModel> take_result() override {
    return std::make_unique<NeuralBarycenterModel>(std::move(result()));
  }

  /// Writes the full training state (networks, Adam moments, step, history,
  /// elapsed time) to `path` atomically. Marginal-parallel: collective, and
  /// rank 0 writes every rank's state in the single-process layout.
  void save_checkpoint(const std::string& path) const override;
  /// Restores a checkpoint written by save_checkpoint for the same problem
  /// shape and config; throws IoError / InvalidArgument otherwise.
  /// Marginal-parallel: collective; rank 0 reads `path` and sends it on.
  void load_checkpoint(const std::string& path) override;

 private:
  void apply_learning_rate_schedule();
  void update_average();
  /// The f- and g-updates of one outer iteration (Algorithm 1's two inner
  /// loops), filling the per-marginal batch means used for reporting.
  struct InnerLosses {
    at::Tensor loss_g;  ///< [N] E f_i(grad g_i(Y)) - <Y, grad g_i(Y)>
    at::Tensor f_mu;    ///< [N] E f_i(h(Z))
    at::Tensor f_t;     ///< [N] E f_i(grad g_i(Y))
  };
  InnerLosses update_potentials_autograd(const at::Tensor& y, const at::Tensor& mu);
  InnerLosses update_potentials_fused(const at::Tensor& y, const at::Tensor& mu);
  /// sum_i a_i grad f_i(mu) over this process's marginals, and sum_i a_i E f_i(mu).
  void weighted_potential_gradient(const at::Tensor& mu_n, at::Tensor& gradient, at::Tensor& value) const;
  /// Marginal-parallel: the full-size state assembled from every rank (collective).
  void assemble(bool with_optimisers) const;
  /// The full-size model and optimisers that assemble() fills (marginal-parallel only).
  struct FullState;

  BarycenterProblem problem_;
  std::vector<int64_t> owned_;  ///< global index of model_'s marginal k (all of them in one process)
  NeuralBarycenterModel model_;
  std::unique_ptr<NeuralBarycenterModel> averaged_;  ///< config.averaging > 0
  std::unique_ptr<nn::FlatAdam> opt_f_, opt_g_;
  std::unique_ptr<nn::ModuleAdam> opt_h_;
  /// The fused engine's h-update on the CPU (closed-form forward and reverse
  /// sweep of h, no autograd graph).
  nn::cpu::GeneratorTrainingPass h_pass_;
  at::Tensor weights_;  ///< a_i as [N] in the network dtype
  int64_t step_ = 0;
  training::ScheduleHorizon horizon_{0, 0};  ///< set in the constructor; the schedule's length (config.schedule_seconds)
  double elapsed_before_ = 0;  ///< training seconds from runs this one resumed
  nn::IdentityFit pretrain_;   ///< config.pretrain_iterations > 0
  std::shared_ptr<distributed::ProcessGroup> group_;  ///< null in one process
  std::unique_ptr<FullState> full_;                   ///< marginal-parallel only
};

}  // namespace wbary::barycenter
