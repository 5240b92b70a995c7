// File: wbary/maps/w2_map.h
//
// The two-measure W2 map solver (Amos 2023, "On amortizing convex
// conjugates for optimal transport"; reference/w2-maps.md §3): learn the
// Brenier map grad f from samples of a source P and a target Q by the
// Kantorovich dual
//
//   min_f  E_P f(X) + E_Q [<x_hat(Y), Y> - f(x_hat(Y))],
//   x_hat(y) = argmin_x f(x) - <x, y>   (stop-gradient; envelope theorem),
//
// where x_hat is predicted by an amortisation model H and fine-tuned by a
// batched conjugate solver (conjugate_solver.h), and H is trained by one of
// three amortisation losses. One step: draw X, Y; x_hat = solve(H(Y));
// AdamW step on f for the dual loss; AdamW step on H for its loss.
//
// Example:
//   maps::W2MapProblem problem{source, target, "gaussian:...", "cloud.npy"};
//   maps::W2Map solver(problem, config);
//   solver.train({&progress});
//   at::Tensor y = solver.model().forward(x);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wbary/data/sampler.h"
#include "wbary/maps/w2_map_model.h"
#include "wbary/nn/flat_adam.h"
#include "wbary/training/schedule_horizon.h"
#include "wbary/training/training.h"


namespace wbary::maps {

/// The source and target measures of a W2 map.
struct W2MapProblem {
  std::shared_ptr<const data::Sampler> source;  ///< mu
  std::shared_ptr<const data::Sampler> target;  ///< nu
  std::string source_spec;  ///< stored with the model; may be empty
  std::string target_spec;  ///< stored with the model; may be empty

  /// Both present, same dimension (the message names both).
  void validate() const;
};

/// W2 maps between two measures with amortized convex conjugates and fine-tuning (Amos 2023).
class W2Map {
 public:
  /// Sets up the potential and the amortization model; InvalidArgument on a bad config.
  W2Map(W2MapProblem problem, W2MapConfig config);
  ~W2Map();

  /// Steps until config.iterations or a callback stops; may be called again.
  /// Throws DivergenceError at the first non-finite loss.
  training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks = {});
  /// One step; reports the losses "dual", "w2_sq" (the dual's estimate of
  /// W2^2(P, Q) on the batch), "amortization", "conj_iters", "conj_ok".
  training::StepInfo step();

  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  int64_t steps_done() const { return step_; }
  /// The model as trained so far.
  const W2MapModel& model() const { return model_; }
  /// The model as trained so far.
  W2MapModel& model() { return model_; }

  /// Networks, optimiser moments, step, history and elapsed time, atomically.
  void save_checkpoint(const std::string& path) const;
  /// Restores save_checkpoint's state for the same dimension and config.
  void load_checkpoint(const std::string& path);

 private:
  void set_learning_rate();
  /// Counts the step and reports its losses (step()'s common tail).
  training::StepInfo finish_step(const at::Tensor& x, const at::Tensor& y, const at::Tensor& dual,
                                 const at::Tensor& amort, const ConjugateSolution& sol);

  W2MapProblem problem_;
  W2MapModel model_;
  std::unique_ptr<nn::ModuleAdam> opt_f_, opt_h_;  ///< AdamW (decoupled weight decay)
  std::vector<at::Tensor> params_f_, params_h_;
  int64_t step_ = 0;
  double elapsed_before_ = 0;
  training::ScheduleHorizon horizon_;  ///< the cosine's length (config.schedule_seconds)
};

}  // namespace wbary::maps
