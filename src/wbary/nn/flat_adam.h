// File: wbary/nn/flat_adam.h
//
// Adam (Kingma & Ba 2015) on one contiguous parameter vector and its
// gradient vector: the same update as torch::optim::Adam (bias-corrected,
// eps added to sqrt(v)/sqrt(1 - beta2^t)), in 6 vector operations per step
// whatever the number of parameter tensors. The NWB solver makes 24 g- and
// 4 f-updates per outer iteration on networks of ~11 tensors each, where
// per-tensor dispatch dominated the time.
//
// Example:
//   nn::FlatAdam opt(net.flat_parameters(), {.lr = 1e-3});
//   ... fill net.flat_gradients() ...
//   opt.step(net.flat_gradients());
#pragma once

#include <ATen/ATen.h>
#include <torch/serialize/archive.h>

#include <memory>
#include <vector>

namespace torch::optim {
class Adam;
}

namespace wbary::nn {

/// Adam's learning rate, betas, epsilon and weight decay.
struct FlatAdamOptions {
  double lr = 1e-3;      ///< PyTorch defaults
  double beta1 = 0.9;  ///< Adam's first-moment decay.
  double beta2 = 0.999;  ///< Adam's second-moment decay.
  double eps = 1e-8;  ///< added to the denominator
};

/// Adam over one flat parameter buffer: six vector operations a step instead of one per tensor.
class FlatAdam {
 public:
  /// `parameters` is updated in place; it must stay alive and contiguous.
  FlatAdam(at::Tensor parameters, FlatAdamOptions options);

  /// One Adam update of the parameters with `gradient` (laid out as the parameters).
  void step(const at::Tensor& gradient);
  /// Sets the learning rate (schedules).
  void set_lr(double lr) { options_.lr = lr; }
  /// The learning rate now.
  double lr() const { return options_.lr; }
  /// Steps taken (the bias correction's t).
  int64_t steps() const { return step_; }
  /// The moment estimates m and v (laid out as the parameters), for moving
  /// an optimiser's state between processes.
  const at::Tensor& first_moment() const { return exp_avg_; }
  /// Adam's second-moment estimate (for checkpoints).
  const at::Tensor& second_moment() const { return exp_avg_sq_; }
  /// Restores the step count (checkpoints).
  void set_steps(int64_t steps) { step_ = steps; }

  /// Writes the moments and the step count into `archive` (a checkpoint's).
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what save() wrote; IoError when its sizes are not the parameters'.
  void load(torch::serialize::InputArchive& archive);

 private:
  at::Tensor params_;
  at::Tensor exp_avg_;
  at::Tensor exp_avg_sq_;
  at::Tensor denom_;  ///< workspace
  FlatAdamOptions options_;
  int64_t step_ = 0;
};

/// torch::optim::Adam with the same options, for modules whose parameters
/// are not one flat vector (the generators).
std::unique_ptr<torch::optim::Adam> make_module_adam(const std::vector<at::Tensor>& parameters,
                                                     const FlatAdamOptions& options);
/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Adam& optimizer, double lr);

}  // namespace wbary::nn
