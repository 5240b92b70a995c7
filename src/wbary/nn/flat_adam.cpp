#include "wbary/nn/flat_adam.h"

#include <Eigen/Core>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
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

namespace {

// One pass over the parameters on the CPU: the arithmetic of the ATen path
// below, in the same order and precision (ATen casts the scalars to the
// tensors' type), without its eight dispatched passes. At NWB's small sizes
// (d = 2: ~200 parameters, 84 updates an iteration) dispatch was most of
// the optimiser's time.
template <typename T>
void adam_pass(T* p, T* m, T* v, const T* g, int64_t n, const FlatAdamOptions& o, double bc2_sqrt, double step_size) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const T b1 = static_cast<T>(o.beta1), one_b1 = static_cast<T>(1 - o.beta1);
  const T b2 = static_cast<T>(o.beta2), one_b2 = static_cast<T>(1 - o.beta2);
  const T root = static_cast<T>(bc2_sqrt), eps = static_cast<T>(o.eps), lr = static_cast<T>(-step_size);
  at::parallel_for(0, n, 1 << 15, [=](int64_t begin, int64_t end) {
    // Eigen's packet sqrt and division: a plain loop stays scalar (std::sqrt may set errno).
    const int64_t len = end - begin;
    Eigen::Map<Array> P(p + begin, len), M(m + begin, len), V(v + begin, len);
    const Eigen::Map<const Array> G(g + begin, len);
    M = M * b1 + one_b1 * G;
    V = V * b2 + (one_b2 * G) * G;
    P = P + (lr * M) / (V.sqrt() / root + eps);
  });
}

}  // namespace

void FlatAdam::step(const at::Tensor& g) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double bc1 = 1 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bc2 = 1 - std::pow(options_.beta2, static_cast<double>(step_));
  if (params_.is_cpu() && g.is_cpu() && g.is_contiguous() && g.scalar_type() == params_.scalar_type() &&
      g.numel() == params_.numel()) {
    AT_DISPATCH_FLOATING_TYPES(params_.scalar_type(), "FlatAdam::step", [&] {
      adam_pass<scalar_t>(params_.data_ptr<scalar_t>(), exp_avg_.data_ptr<scalar_t>(), exp_avg_sq_.data_ptr<scalar_t>(),
                          g.data_ptr<scalar_t>(), params_.numel(), options_, std::sqrt(bc2), options_.lr / bc1);
    });
    return;
  }
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
