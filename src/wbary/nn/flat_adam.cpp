#include "wbary/nn/flat_adam.h"

#include <torch/autograd.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <cmath>

#include "wbary/error.h"

namespace wbary::nn {

FlatAdam::FlatAdam(at::Tensor parameters, FlatAdamOptions options)
    : params_(std::move(parameters)), options_(options) {
  if (!params_.is_contiguous() || params_.dim() != 1) throw InvalidArgument("FlatAdam: expected a contiguous vector");
  if (!(options.lr > 0)) throw InvalidArgument("FlatAdam: learning rate must be > 0");
  exp_avg_ = at::zeros_like(params_);
  exp_avg_sq_ = at::zeros_like(params_);
  denom_ = at::empty_like(params_);
}

void FlatAdam::step(const at::Tensor& g) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double bc1 = 1 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bc2 = 1 - std::pow(options_.beta2, static_cast<double>(step_));
  // Same arithmetic, in the same order, as torch::optim::Adam::step.
  exp_avg_.mul_(options_.beta1).add_(g, 1 - options_.beta1);
  exp_avg_sq_.mul_(options_.beta2).addcmul_(g, g, 1 - options_.beta2);
  at::sqrt_out(denom_, exp_avg_sq_);
  denom_.div_(std::sqrt(bc2)).add_(options_.eps);
  params_.addcdiv_(exp_avg_, denom_, -options_.lr / bc1);
}

void FlatAdam::save(torch::serialize::OutputArchive& archive) const {
  archive.write("exp_avg", exp_avg_, /*is_buffer=*/true);
  archive.write("exp_avg_sq", exp_avg_sq_, /*is_buffer=*/true);
  archive.write("step", at::tensor(std::vector<int64_t>{step_}), /*is_buffer=*/true);
}

void FlatAdam::load(torch::serialize::InputArchive& archive) {
  at::Tensor m, v, s;
  archive.read("exp_avg", m, /*is_buffer=*/true);
  archive.read("exp_avg_sq", v, /*is_buffer=*/true);
  archive.read("step", s, /*is_buffer=*/true);
  if (m.numel() != params_.numel() || v.numel() != params_.numel()) {
    throw IoError("optimizer state has " + std::to_string(m.numel()) + " entries, expected " +
                  std::to_string(params_.numel()));
  }
  torch::NoGradGuard no_grad;
  exp_avg_.copy_(m);
  exp_avg_sq_.copy_(v);
  step_ = s.item<int64_t>();
}

std::unique_ptr<torch::optim::Adam> make_module_adam(const std::vector<at::Tensor>& parameters,
                                                     const FlatAdamOptions& o) {
  return std::make_unique<torch::optim::Adam>(
      parameters, torch::optim::AdamOptions(o.lr).betas(std::make_tuple(o.beta1, o.beta2)).eps(o.eps));
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

}  // namespace wbary::nn
