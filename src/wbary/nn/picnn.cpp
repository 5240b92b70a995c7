#include "wbary/nn/picnn.h"

#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "wbary/error.h"

namespace wbary::nn {
namespace {

// The tensors of an IcnnWeights in one fixed order (undefined ones skipped).
std::vector<at::Tensor> tensors_of(const IcnnWeights& w) {
  std::vector<at::Tensor> out;
  auto add = [&](const at::Tensor& t) {
    if (t.defined()) out.push_back(t);
  };
  for (const auto& t : w.A) add(t);
  for (const auto& t : w.b) add(t);
  for (const auto& t : w.W) add(t);
  for (const auto& t : w.slope) add(t);
  add(w.w);
  add(w.a);
  add(w.c);
  return out;
}

}  // namespace

PicnnConfig resolved(PicnnConfig c, int64_t dim, int64_t context_dim) {
  c.convex.width = resolved_icnn_width(c.convex, dim);
  if (c.context_width == 0) c.context_width = std::max<int64_t>(16, 4 * context_dim);
  return c;
}

PicnnPotential::PicnnPotential(int64_t count, int64_t dim, int64_t context_dim, PicnnConfig config,
                               at::Generator& gen, at::ScalarType dtype, at::Device device)
    : context_dim_(context_dim), config_(config) {
  if (context_dim < 1 || config.context_width < 1) {
    throw InvalidArgument("PicnnPotential: context_dim and context_width must be >= 1 (got " +
                          std::to_string(context_dim) + ", " + std::to_string(config.context_width) + ")");
  }
  base_ = register_module("convex", std::make_shared<IcnnPotential>(count, dim, config.convex, gen, dtype, device));
  const int64_t K = count, H = config.convex.width, Hu = config.context_width, L = config.convex.hidden_layers,
                m = context_dim;
  head_size_ = L * dim + 2 * L * H + (config.convex.quadratic_skip ? dim + 1 : 0);
  const auto opts = at::TensorOptions().dtype(dtype);
  // nn.Linear's initialisation for the context layers; the head starts at
  // zero, so that the fresh PICNN is its convex path.
  auto uniform = [&](int64_t n, int64_t fan_in) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    return at::empty({K, n}, opts).uniform_(-bound, bound, gen);
  };
  const at::Tensor init = at::cat({uniform(Hu * m, m), uniform(Hu, m), uniform(Hu * Hu, Hu), uniform(Hu, Hu),
                                   at::zeros({K, head_size_ * Hu + head_size_}, opts)},
                                  1);
  context_ = register_parameter("context", init.reshape({-1}).to(device));  // flat, for FlatAdam
  context_grad_ = at::zeros_like(context_);
}

IcnnWeights PicnnPotential::effective(const at::Tensor& c) const {
  if (c.dim() != 1 || c.size(0) != context_dim_) {
    std::ostringstream got;
    got << c.sizes();
    throw InvalidArgument("PicnnPotential: expected a context of " + std::to_string(context_dim_) +
                          " values, got shape " + got.str());
  }
  const IcnnWeights& base = base_->weights();
  const int64_t K = count(), m = context_dim_, Hu = config_.context_width, S = head_size_, d = dim(),
                H = config_.convex.width;
  const size_t L = base.A.size();
  int64_t offset = 0;
  const at::Tensor per_network = context_.view({K, -1});
  auto take = [&](int64_t rows, int64_t cols) {
    at::Tensor t = per_network.narrow(1, offset, rows * cols).view({K, rows, cols});
    offset += rows * cols;
    return t;
  };
  const at::Tensor U1 = take(Hu, m), s1 = take(1, Hu), U2 = take(Hu, Hu), s2 = take(1, Hu), head_w = take(S, Hu),
                   head_b = take(1, S);
  const at::Tensor cv = c.to(options()).view({1, 1, m}).expand({K, 1, m});
  at::Tensor u = at::softplus(at::baddbmm(s1, cv, U1.transpose(1, 2)));
  u = at::softplus(at::baddbmm(s2, u, U2.transpose(1, 2)));
  const at::Tensor head = at::baddbmm(head_b, u, head_w.transpose(1, 2));  // [K, 1, S]
  int64_t h = 0;
  auto next = [&](int64_t n) {
    at::Tensor t = head.narrow(2, h, n);
    h += n;
    return t;
  };
  IcnnWeights e;
  e.slope = base.slope;
  for (size_t l = 0; l < L; ++l) e.A.push_back(base.A[l] * (next(d) + 1));  // [K, H, d] * [K, 1, d]
  for (size_t l = 0; l < L; ++l) e.b.push_back(base.b[l] + next(H));
  for (size_t l = 1; l < L; ++l) e.W.push_back(base.W[l - 1] * at::relu(next(H) + 1));
  e.w = base.w * at::relu(next(H) + 1).transpose(1, 2);  // [K, H, 1]
  if (base.a.defined()) {
    e.a = base.a + next(d).transpose(1, 2);  // [K, d, 1]
    e.c = base.c + next(1);                  // [K, 1, 1]
  }
  return e;
}

void PicnnPotential::backward_effective(const IcnnWeights& effective, const IcnnWeights& gradient) {
  std::vector<at::Tensor> inputs = base_->parameters();
  inputs.push_back(context_);
  const auto grads = torch::autograd::grad(tensors_of(effective), inputs, tensors_of(gradient),
                                           /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  const at::Tensor& flat = base_->flat_gradients();
  for (size_t k = 0; k + 1 < inputs.size(); ++k) {
    at::Tensor slot = flat.narrow(0, offset, inputs[k].numel());
    if (grads[k].defined()) {
      slot.copy_(grads[k].reshape({-1}));
    } else {
      slot.zero_();
    }
    offset += inputs[k].numel();
  }
  if (grads.back().defined()) {
    context_grad_.copy_(grads.back());
  } else {
    context_grad_.zero_();
  }
}

void PicnnPotential::gather_gradients() {
  base_->gather_gradients();
  torch::NoGradGuard no_grad;
  if (context_.grad().defined()) {
    context_grad_.copy_(context_.grad());
  } else {
    context_grad_.zero_();
  }
}

at::Tensor PicnnPotential::value(const at::Tensor& x, const at::Tensor& c) const {
  return icnn_value(icnn_config(), effective(c), x);
}

at::Tensor PicnnPotential::gradient(const at::Tensor& x, const at::Tensor& c) const {
  torch::NoGradGuard no_grad;
  return icnn_gradient(icnn_config(), effective(c), x);
}

at::Tensor PicnnPotential::gradient_of(int64_t k, const at::Tensor& x, const at::Tensor& c) const {
  if (k < 0 || k >= count()) throw InvalidArgument("potential index " + std::to_string(k) + " out of range");
  torch::NoGradGuard no_grad;
  return icnn_gradient(icnn_config(), effective(c).select(k), x.unsqueeze(0).to(options())).squeeze(0);
}

}  // namespace wbary::nn
