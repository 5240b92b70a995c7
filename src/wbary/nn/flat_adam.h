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
  /// Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): each update
  /// first multiplies the parameters by 1 - lr * weight_decay, as
  /// torch::optim::AdamW does. 0 = Adam.
  double weight_decay = 0;
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

/// Adam (AdamW with weight_decay) over a module's parameter tensors (the
/// generators and the W2 maps' networks, whose .grad() autograd or a
/// written-out chain rule fills): FlatAdam's arithmetic and its
/// checkpoint layout (both moments as one flat vector), one pass over each
/// tensor's memory on the CPU. torch::optim::Adam spent ~10 dispatched
/// operations per tensor, ~0.3 ms a step for NWB's 2-D generator (19
/// tensors) against a 2.5 ms outer iteration. As torch's Adam, a parameter
/// without a gradient is left alone for that step, and each parameter's
/// bias correction counts the steps that updated it.
class ModuleAdam {
 public:
  /// `parameters` are updated in place; they must stay alive and contiguous.
  ModuleAdam(std::vector<at::Tensor> parameters, FlatAdamOptions options);

  /// Zeroes every parameter's .grad() (a memset on the CPU, no dispatch).
  void zero_grad();
  /// One Adam update of every parameter with its .grad().
  void step();
  /// Sets the learning rate (schedules).
  void set_lr(double lr) { options_.lr = lr; }
  /// The learning rate now.
  double lr() const { return options_.lr; }
  /// Calls of step().
  int64_t steps() const { return step_; }

  /// Writes the moments and the step counts into `archive` (FlatAdam's
  /// layout, with one count per parameter).
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what save() wrote; IoError when its sizes are not the
  /// parameters' or when it is another optimiser's state (older wbary
  /// checkpoints kept torch::optim::Adam's for generators, AdamW's for W2 maps).
  void load(torch::serialize::InputArchive& archive);

 private:
  std::vector<at::Tensor> params_;
  std::vector<int64_t> offsets_;  ///< where each parameter's moments start
  std::vector<int64_t> updates_;  ///< per parameter: steps that updated it
  at::Tensor exp_avg_;
  at::Tensor exp_avg_sq_;
  FlatAdamOptions options_;
  int64_t step_ = 0;
};

/// Sets the learning rate of every parameter group of a torch optimiser.
void set_learning_rate(torch::optim::Adam& optimizer, double lr);

}  // namespace wbary::nn
