#include "wbary/nn/icnn.h"

#include <torch/autograd.h>

#include <cmath>

#include "wbary/error.h"
#include "wbary/nn/icnn_kernels.h"

namespace wbary::nn {
namespace {

at::Tensor uniform(std::vector<int64_t> shape, double bound, at::Generator& gen) {
  return (at::rand(shape, gen, at::TensorOptions().dtype(at::kFloat)) * 2 - 1) * bound;
}

}  // namespace

IcnnActivation parse_icnn_activation(const std::string& name) {
  if (name == "celu") return IcnnActivation::kCelu;
  if (name == "prelu") return IcnnActivation::kPrelu;
  throw InvalidArgument("ICNN activation '" + name + "': expected 'celu' or 'prelu'");
}

std::string to_string(IcnnActivation a) { return a == IcnnActivation::kCelu ? "celu" : "prelu"; }

int64_t resolved_icnn_width(const IcnnConfig& config, int64_t dim) {
  return config.width > 0 ? config.width : std::max<int64_t>(2 * dim, 32);
}

IcnnPotential::IcnnPotential(int64_t count, int64_t dim, IcnnConfig config, at::Generator& gen,
                             at::ScalarType dtype, at::Device device)
    : count_(count), dim_(dim), config_(config) {
  if (count < 1 || dim < 1) throw InvalidArgument("IcnnPotential: count and dim must be >= 1");
  if (config.hidden_layers < 1) {
    throw InvalidArgument("ICNN hidden layers: got " + std::to_string(config.hidden_layers) +
                          ", expected >= 1");
  }
  if (config.width < 1) {
    throw InvalidArgument("ICNN width: got " + std::to_string(config.width) + ", expected >= 1");
  }
  const int64_t H = config.width, K = count, L = config.hidden_layers;
  const double bx = 1.0 / std::sqrt(static_cast<double>(dim));
  const double bz = 1.0 / std::sqrt(static_cast<double>(H));
  for (int64_t l = 0; l < L; ++l) {
    if (l > 0) weights_.W.push_back(register_parameter("W" + std::to_string(l), uniform({K, H, H}, bz, gen)));
    weights_.A.push_back(register_parameter("A" + std::to_string(l), uniform({K, H, dim}, bx, gen)));
    weights_.b.push_back(register_parameter("b" + std::to_string(l), uniform({K, 1, H}, bx, gen)));
    if (config.activation == IcnnActivation::kPrelu) {
      weights_.slope.push_back(register_parameter("slope" + std::to_string(l),
                                         at::full({K, 1, 1}, 0.25, at::TensorOptions().dtype(at::kFloat))));
    }
  }
  weights_.w = register_parameter("w", uniform({K, H, 1}, bz, gen));
  if (config.quadratic_skip) {
    weights_.a = register_parameter("a", uniform({K, dim, 1}, bx, gen));
    weights_.c = register_parameter("c", uniform({K, 1, 1}, bx, gen));
  }
  int64_t total = 0;
  for (const auto& p : parameters()) total += p.numel();
  flat_ = at::empty({total}, at::TensorOptions().dtype(dtype).device(device));
  flat_grad_ = at::zeros({total}, at::TensorOptions().dtype(dtype).device(device));
  repack();
  // Gradient views mirror weights_ field by field.
  auto view_of = [this](const at::Tensor& p) {
    if (!p.defined()) return at::Tensor();
    const int64_t offset = (static_cast<const char*>(p.data_ptr()) - static_cast<const char*>(flat_.data_ptr())) /
                           static_cast<int64_t>(flat_.element_size());
    return flat_grad_.narrow(0, offset, p.numel()).view(p.sizes());
  };
  for (const auto& t : weights_.A) grad_views_.A.push_back(view_of(t));
  for (const auto& t : weights_.b) grad_views_.b.push_back(view_of(t));
  for (const auto& t : weights_.W) grad_views_.W.push_back(view_of(t));
  for (const auto& t : weights_.slope) grad_views_.slope.push_back(view_of(t));
  grad_views_.w = view_of(weights_.w);
  grad_views_.a = view_of(weights_.a);
  grad_views_.c = view_of(weights_.c);
}

void IcnnPotential::repack() {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& p : parameters()) {
    at::Tensor slot = flat_.narrow(0, offset, p.numel());
    slot.copy_(p.reshape({-1}));
    p.set_data(slot.view(p.sizes()));
    offset += p.numel();
  }
}

std::vector<at::Tensor> IcnnPotential::parameter_views(const at::Tensor& flat) const {
  if (flat.numel() != flat_.numel()) {
    throw InvalidArgument("ICNN parameter views: got " + std::to_string(flat.numel()) + " values, expected " +
                          std::to_string(flat_.numel()));
  }
  std::vector<at::Tensor> views;
  int64_t offset = 0;
  for (const auto& p : parameters()) {
    views.push_back(flat.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
  return views;
}

void IcnnPotential::gather_gradients() {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& p : parameters()) {
    at::Tensor slot = flat_grad_.narrow(0, offset, p.numel());
    if (p.grad().defined()) {
      slot.copy_(p.grad().reshape({-1}));
    } else {
      slot.zero_();
    }
    offset += p.numel();
  }
}

IcnnWeights IcnnWeights::select(int64_t k) const {
  auto pick = [k](const at::Tensor& t) { return t.defined() ? t.narrow(0, k, 1) : t; };
  IcnnWeights v;
  for (const auto& t : A) v.A.push_back(pick(t));
  for (const auto& t : b) v.b.push_back(pick(t));
  for (const auto& t : W) v.W.push_back(pick(t));
  for (const auto& t : slope) v.slope.push_back(pick(t));
  v.w = pick(w);
  v.a = pick(a);
  v.c = pick(c);
  return v;
}

// The network is evaluated in one place, icnn_forward (nn/icnn_kernels.h),
// which keeps the tape the closed-form derivatives need; without a
// NoGradGuard around it, its value is autograd-differentiable.
at::Tensor icnn_value(const IcnnConfig& cfg, const IcnnWeights& wt, const at::Tensor& x) {
  return icnn_forward(cfg, wt, x).value;
}

at::Tensor icnn_gradient(const IcnnConfig& cfg, const IcnnWeights& wt, const at::Tensor& x) {
  torch::NoGradGuard no_grad;
  IcnnTape tape = icnn_forward(cfg, wt, x);
  icnn_backward_gradient(cfg, wt, tape);
  return tape.gradient;
}

at::Tensor IcnnPotential::value(const at::Tensor& x) const { return icnn_value(config_, weights_, x); }

at::Tensor IcnnPotential::gradient(const at::Tensor& x) const {
  return icnn_gradient(config_, weights_, x);
}

at::Tensor IcnnPotential::gradient_autograd(const at::Tensor& x, bool create_graph) const {
  at::Tensor xr = x.detach().requires_grad_(true);
  at::Tensor v = value(xr).sum();
  return torch::autograd::grad({v}, {xr}, /*grad_outputs=*/{}, /*retain_graph=*/create_graph,
                               create_graph)[0];
}

at::Tensor IcnnPotential::gradient_of(int64_t k, const at::Tensor& x) const {
  if (k < 0 || k >= count_) throw InvalidArgument("potential index " + std::to_string(k) + " out of range");
  return icnn_gradient(config_, weights_.select(k), x.unsqueeze(0).to(weights_.w.options())).squeeze(0);
}

at::Tensor IcnnPotential::value_of(int64_t k, const at::Tensor& x) const {
  if (k < 0 || k >= count_) throw InvalidArgument("potential index " + std::to_string(k) + " out of range");
  torch::NoGradGuard no_grad;
  return icnn_value(config_, weights_.select(k), x.unsqueeze(0).to(weights_.w.options())).squeeze(0);
}

void IcnnPotential::clamp_convex_weights() {
  torch::NoGradGuard no_grad;
  for (auto t : weights_.W) t.clamp_min_(0);
  weights_.w.clamp_min_(0);
}

at::Tensor IcnnPotential::convexity_violation() const {
  at::Tensor r = at::relu(-weights_.w).pow(2).sum();
  for (const auto& t : weights_.W) r = r + at::relu(-t).pow(2).sum();
  return r;
}

std::vector<at::Tensor> IcnnPotential::convex_weights() const {
  std::vector<at::Tensor> out(weights_.W.begin(), weights_.W.end());
  out.push_back(weights_.w);
  return out;
}

}  // namespace wbary::nn
