#include "wbary/nn/flat_adam.h"

#include <Eigen/Core>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <cmath>
#include <cstring>

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
  // AdamW's decay first (p * (1 - lr wd), rounded), then Adam's step, as torch::optim::AdamW.
  const T decay = static_cast<T>(1 - o.lr * o.weight_decay);
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const T b1 = static_cast<T>(o.beta1), one_b1 = static_cast<T>(1 - o.beta1);
  const T b2 = static_cast<T>(o.beta2), one_b2 = static_cast<T>(1 - o.beta2);
  const T root = static_cast<T>(bc2_sqrt), eps = static_cast<T>(o.eps), lr = static_cast<T>(-step_size);
  at::parallel_for(0, n, 1 << 15, [=](int64_t begin, int64_t end) {
    // Eigen's packet sqrt and division: a plain loop stays scalar (std::sqrt may set errno).
    const int64_t len = end - begin;
    Eigen::Map<Array> P(p + begin, len), M(m + begin, len), V(v + begin, len);
    const Eigen::Map<const Array> G(g + begin, len);
    if (decay != T(1)) P = P * decay;
    M = M * b1 + one_b1 * G;
    V = V * b2 + (one_b2 * G) * G;
    P = P + (lr * M) / (V.sqrt() / root + eps);
  });
}

// The same update with ATen operations, in torch::optim::Adam::step's
// order: any device. `denom` is a workspace shaped as p.
void adam_update_aten(at::Tensor p, at::Tensor m, at::Tensor v, const at::Tensor& g, at::Tensor denom,
                      const FlatAdamOptions& o, double bc1, double bc2) {
  if (o.weight_decay != 0) p.mul_(1 - o.lr * o.weight_decay);
  m.mul_(o.beta1).add_(g, 1 - o.beta1);
  v.mul_(o.beta2).addcmul_(g, g, 1 - o.beta2);
  at::sqrt_out(denom, v);
  denom.div_(std::sqrt(bc2)).add_(o.eps);
  p.addcdiv_(m, denom, -o.lr / bc1);
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
  adam_update_aten(params_, exp_avg_, exp_avg_sq_, g, denom_, options_, bc1, bc2);
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

ModuleAdam::ModuleAdam(std::vector<at::Tensor> parameters, FlatAdamOptions options)
    : params_(std::move(parameters)), options_(options) {
  if (!(options.lr > 0)) throw InvalidArgument("ModuleAdam: learning rate must be > 0");
  if (params_.empty()) throw InvalidArgument("ModuleAdam: no parameters");
  int64_t total = 0;
  for (const at::Tensor& p : params_) {
    if (!p.is_contiguous() || p.scalar_type() != params_[0].scalar_type() || p.device() != params_[0].device()) {
      throw InvalidArgument("ModuleAdam: parameters must be contiguous, of one dtype and on one device");
    }
    offsets_.push_back(total);
    total += p.numel();
  }
  updates_.assign(params_.size(), 0);
  exp_avg_ = at::zeros({total}, params_[0].options());
  exp_avg_sq_ = at::zeros({total}, params_[0].options());
}

void ModuleAdam::zero_grad() {
  torch::NoGradGuard no_grad;
  for (const at::Tensor& p : params_) {
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (g.is_cpu() && g.is_contiguous()) {
      std::memset(g.data_ptr(), 0, g.nbytes());
    } else {
      g.zero_();
    }
  }
}

void ModuleAdam::step() {
  torch::NoGradGuard no_grad;
  ++step_;
  for (size_t k = 0; k < params_.size(); ++k) {
    at::Tensor p = params_[k];
    const at::Tensor g = p.grad();
    if (!g.defined()) continue;
    const auto t = static_cast<double>(++updates_[k]);
    const double bc1 = 1 - std::pow(options_.beta1, t), bc2 = 1 - std::pow(options_.beta2, t);
    const int64_t n = p.numel();
    if (p.is_cpu() && g.is_contiguous() && g.scalar_type() == p.scalar_type()) {
      AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "ModuleAdam::step", [&] {
        adam_pass<scalar_t>(p.data_ptr<scalar_t>(), exp_avg_.data_ptr<scalar_t>() + offsets_[k],
                            exp_avg_sq_.data_ptr<scalar_t>() + offsets_[k], g.data_ptr<scalar_t>(), n, options_,
                            std::sqrt(bc2), options_.lr / bc1);
      });
      continue;
    }
    adam_update_aten(p, exp_avg_.narrow(0, offsets_[k], n).view_as(p), exp_avg_sq_.narrow(0, offsets_[k], n).view_as(p),
                     g, at::empty_like(p), options_, bc1, bc2);
  }
}

void ModuleAdam::save(torch::serialize::OutputArchive& archive) const {
  archive.write("exp_avg", exp_avg_, /*is_buffer=*/true);
  archive.write("exp_avg_sq", exp_avg_sq_, /*is_buffer=*/true);
  archive.write("step", at::tensor(std::vector<int64_t>{step_}), /*is_buffer=*/true);
  archive.write("updates", at::tensor(updates_), /*is_buffer=*/true);
}

void ModuleAdam::load(torch::serialize::InputArchive& archive) {
  at::Tensor m, v, s;
  at::Tensor u;
  if (!archive.try_read("exp_avg", m, /*is_buffer=*/true) || !archive.try_read("exp_avg_sq", v, true) ||
      !archive.try_read("step", s, true) || !archive.try_read("updates", u, true)) {
    throw IoError("the optimiser state is not ModuleAdam's (a checkpoint written by an older wbary holds "
                  "torch::optim::Adam's or AdamW's); it cannot be resumed by this version: start the run again, or "
                  "continue it with the wbary that wrote it");
  }
  if (m.numel() != exp_avg_.numel() || v.numel() != exp_avg_.numel() ||
      u.numel() != static_cast<int64_t>(params_.size())) {
    throw IoError("optimizer state has " + std::to_string(m.numel()) + " entries for " + std::to_string(u.numel()) +
                  " tensors, expected " + std::to_string(exp_avg_.numel()) + " for " + std::to_string(params_.size()));
  }
  torch::NoGradGuard no_grad;
  exp_avg_.copy_(m);
  exp_avg_sq_.copy_(v);
  step_ = s.item<int64_t>();
  const at::Tensor counts = u.to(at::kLong).contiguous();
  updates_.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

}  // namespace wbary::nn
