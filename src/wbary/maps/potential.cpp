#include "wbary/maps/potential.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <cmath>

#include "wbary/error.h"
#include "wbary/nn/mlp_cpu.h"

namespace wbary::maps {
namespace {

// nn.Linear's default initialisation (Kaiming-uniform, bound 1/sqrt(fan_in)).
void init_linear(at::Tensor& w, at::Tensor& b, int64_t in, int64_t out, at::Generator& gen,
                 at::ScalarType dtype, bool zero) {
  const auto opt = at::TensorOptions().dtype(dtype);
  if (zero) {
    w = at::zeros({out, in}, opt);
    b = at::zeros({out}, opt);
    return;
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  w = at::empty({out, in}, opt).uniform_(-bound, bound, gen);
  b = at::empty({out}, opt).uniform_(-bound, bound, gen);
}

// Hidden layers (ELU after each) then an output layer of width `out`.
void build_mlp(torch::nn::Module& m, std::vector<at::Tensor>& weight, std::vector<at::Tensor>& bias, int64_t in,
               const std::vector<int64_t>& hidden, int64_t out, at::Generator& gen, at::ScalarType dtype) {
  int64_t prev = in;
  std::vector<int64_t> sizes = hidden;
  sizes.push_back(out);
  for (size_t l = 0; l < sizes.size(); ++l) {
    if (sizes[l] <= 0) throw InvalidArgument("hidden widths must be positive, got " + std::to_string(sizes[l]));
    at::Tensor w, b;
    init_linear(w, b, prev, sizes[l], gen, dtype, /*zero=*/l + 1 == sizes.size());
    weight.push_back(m.register_parameter("w" + std::to_string(l), w));
    bias.push_back(m.register_parameter("b" + std::to_string(l), b));
    prev = sizes[l];
  }
}

at::Tensor run_mlp(const std::vector<at::Tensor>& weight, const std::vector<at::Tensor>& bias, at::Tensor z,
                   bool act_on_output) {
  for (size_t l = 0; l < weight.size(); ++l) {
    z = nn::cpu::linear(z, weight[l], bias[l]);
    if (l + 1 < weight.size() || act_on_output) nn::cpu::elu_in_place(z);
  }
  return z;
}

// run_mlp keeping every layer's output (after its activation, if any).
std::vector<at::Tensor> mlp_outputs(const std::vector<at::Tensor>& weight, const std::vector<at::Tensor>& bias,
                                    const at::Tensor& x, bool act_on_output) {
  std::vector<at::Tensor> z(weight.size());
  at::Tensor h = x;
  for (size_t l = 0; l < weight.size(); ++l) {
    h = nn::cpu::linear(h, weight[l], bias[l]);
    if (l + 1 < weight.size() || act_on_output) nn::cpu::elu_in_place(h);
    z[l] = h;
  }
  return z;
}

// The chain rule of run_mlp from the cotangent `cot` of its output: writes
// dW_l = delta_l^T z_{l-1} and db_l = sum of delta_l's rows into the
// parameters' .grad, delta_l = cot_l * elu'(a_l) with ELU's derivative from
// its output (exp(a) = elu(a) + 1 for a <= 0).
void mlp_parameter_backward(std::vector<at::Tensor>& weight, std::vector<at::Tensor>& bias,
                            const at::Tensor& x, const std::vector<at::Tensor>& z, at::Tensor cot,
                            bool act_on_output) {
  for (size_t l = weight.size(); l-- > 0;) {
    const bool activated = l + 1 < weight.size() || act_on_output;
    const at::Tensor delta = activated ? nn::cpu::elu_backward_from_output(cot, z[l]) : cot;
    const at::Tensor& input = l == 0 ? x : z[l - 1];
    weight[l].mutable_grad() = nn::cpu::linear_weight_gradient(delta, input);
    bias[l].mutable_grad() = delta.sum(0);
    if (l > 0) cot = nn::cpu::linear_input_cotangent(delta, weight[l]);
  }
}

}  // namespace

PotentialKind parse_potential_kind(const std::string& name) {
  if (name == "icnn") return PotentialKind::kIcnn;
  if (name == "mlp") return PotentialKind::kMlp;
  throw InvalidArgument("potential: expected icnn or mlp, got '" + name + "'");
}

std::string to_string(PotentialKind kind) { return kind == PotentialKind::kIcnn ? "icnn" : "mlp"; }

std::vector<int64_t> default_hidden_widths(int64_t dim) {
  const int64_t m = std::max<int64_t>(dim, 32);
  return {2 * m, 2 * m, m};
}

at::Tensor MapPotential::gradient(const at::Tensor& x, bool create_graph) const {
  torch::AutoGradMode enable(true);
  at::Tensor xr = create_graph && x.requires_grad() ? x : x.detach().requires_grad_(true);
  at::Tensor v = value(xr).sum();
  at::Tensor g = torch::autograd::grad({v}, {xr}, /*grad_outputs=*/{}, /*retain_graph=*/create_graph,
                                       /*create_graph=*/create_graph)[0];
  return create_graph ? g : g.detach();
}

void MapPotential::value_and_gradient(const at::Tensor& x, at::Tensor& v, at::Tensor& g) const {
  {
    torch::NoGradGuard no_grad;
    v = value(x);
  }
  g = gradient(x);
}

IcnnMapPotential::IcnnMapPotential(int64_t dim, nn::IcnnConfig config, at::Generator& gen, at::ScalarType dtype)
    : MapPotential(dim) {
  config.width = nn::resolved_icnn_width(config, dim);
  icnn_ = register_module("icnn", std::make_shared<nn::IcnnPotential>(1, dim, config, gen, dtype));
  // Start at f = (1/2)|x|^2: zero output weights and skip (kept by clamping: 0 >= 0).
  {
    torch::NoGradGuard no_grad;
    icnn_->weights().w.zero_();
    icnn_->weights().c.zero_();
    if (icnn_->weights().a.defined()) icnn_->weights().a.zero_();
  }
  log_alpha_ = register_parameter("log_alpha", at::zeros({}, at::TensorOptions().dtype(dtype)));
}

at::Tensor IcnnMapPotential::value(const at::Tensor& x) const {
  return icnn_->value(x.unsqueeze(0)).squeeze(0) + 0.5 * log_alpha_.exp() * (x * x).sum(1);
}

at::Tensor IcnnMapPotential::gradient(const at::Tensor& x, bool create_graph) const {
  if (create_graph) return MapPotential::gradient(x, true);
  torch::NoGradGuard no_grad;
  return icnn_->gradient(x.unsqueeze(0)).squeeze(0) + log_alpha_.exp() * x;
}

MlpPotential::MlpPotential(int64_t dim, const std::vector<int64_t>& hidden, at::Generator& gen, at::ScalarType dtype,
                           bool closed_form)
    : MapPotential(dim), closed_form_(closed_form) {
  build_mlp(*this, weight_, bias_, dim, hidden, 1, gen, dtype);
  log_alpha_ = register_parameter("log_alpha", at::zeros({}, at::TensorOptions().dtype(dtype)));
}

at::Tensor MlpPotential::value(const at::Tensor& x) const {
  return run_mlp(weight_, bias_, x, /*act_on_output=*/true).squeeze(1) + 0.5 * log_alpha_.exp() * (x * x).sum(1);
}

at::Tensor MlpPotential::gradient(const at::Tensor& x, bool create_graph) const {
  if (create_graph || !closed_form_) return MapPotential::gradient(x, create_graph);
  at::Tensor v, g;
  value_and_gradient(x, v, g);
  return g;
}

void MlpPotential::value_and_gradient(const at::Tensor& x, at::Tensor& v, at::Tensor& g) const {
  if (!closed_form_) return MapPotential::value_and_gradient(x, v, g);
  torch::NoGradGuard no_grad;
  // Forward as value() does (so v is value(x) to the bit), keeping each
  // layer's output z_l = elu(a_l).
  const size_t L = weight_.size();
  const std::vector<at::Tensor> z = mlp_outputs(weight_, bias_, x, /*act_on_output=*/true);
  const at::Tensor half_alpha = 0.5 * log_alpha_.exp();
  v = z[L - 1].squeeze(1) + half_alpha * (x * x).sum(1);
  // Backward: d/da_l = d/dz_l * elu'(a_l), elu' from the output
  // (is_result), then d/dz_{l-1} = d/da_l W_l. The output layer has width 1,
  // so its cotangent is a column of ones.
  at::Tensor cot = at::ones_like(z[L - 1]);
  for (size_t l = L; l-- > 0;) {
    const at::Tensor da = nn::cpu::elu_backward_from_output(cot, z[l]);
    cot = nn::cpu::linear_input_cotangent(da, weight_[l]);
  }
  g = cot + 2 * half_alpha * x;
}

at::Tensor MlpPotential::mean_difference_backward(const at::Tensor& x, const at::Tensor& x_prime) {
  torch::NoGradGuard no_grad;
  const int64_t B = x.size(0), B2 = x_prime.size(0);
  const at::Tensor both = at::cat({x, x_prime}, 0);
  const std::vector<at::Tensor> z = mlp_outputs(weight_, bias_, both, /*act_on_output=*/true);
  // Each row's weight in the difference of means: +1/B, then -1/B'.
  const at::Tensor row_weight = at::cat({at::full({B, 1}, 1.0 / B, both.options()),
                                         at::full({B2, 1}, -1.0 / B2, both.options())}, 0);
  const at::Tensor sq = (both * both).sum(1, /*keepdim=*/true);
  const at::Tensor alpha = log_alpha_.exp();
  // f = elu(.) + (1/2) alpha |x|^2; d/dlog_alpha of the quadratic term is itself.
  const at::Tensor quadratic = 0.5 * alpha * (row_weight * sq).sum();
  log_alpha_.mutable_grad() = quadratic.clone();
  mlp_parameter_backward(weight_, bias_, both, z, row_weight, /*act_on_output=*/true);
  return (row_weight * z.back()).sum() + quadratic;
}

at::Tensor ResidualMlp::regression_backward(const at::Tensor& y, const at::Tensor& target) {
  torch::NoGradGuard no_grad;
  const std::vector<at::Tensor> z = mlp_outputs(weight_, bias_, y, /*act_on_output=*/false);
  const at::Tensor residual = y + z.back() - target;
  const at::Tensor loss = residual.pow(2).mean();
  mlp_parameter_backward(weight_, bias_, y, z, residual * (2.0 / static_cast<double>(residual.numel())),
                         /*act_on_output=*/false);
  return loss;
}

std::shared_ptr<MapPotential> make_potential(PotentialKind kind, int64_t dim, std::vector<int64_t> hidden,
                                             at::Generator& gen, at::ScalarType dtype, bool closed_form) {
  if (dim <= 0) throw InvalidArgument("potential: dimension must be positive, got " + std::to_string(dim));
  if (hidden.empty()) hidden = default_hidden_widths(dim);
  if (kind == PotentialKind::kMlp) return std::make_shared<MlpPotential>(dim, hidden, gen, dtype, closed_form);
  nn::IcnnConfig config;
  config.width = hidden[0];
  config.hidden_layers = static_cast<int64_t>(hidden.size());
  return std::make_shared<IcnnMapPotential>(dim, config, gen, dtype);
}

ResidualMlp::ResidualMlp(int64_t dim, const std::vector<int64_t>& hidden, at::Generator& gen, at::ScalarType dtype) {
  build_mlp(*this, weight_, bias_, dim, hidden, dim, gen, dtype);
}

at::Tensor ResidualMlp::forward(const at::Tensor& y) const {
  return y + run_mlp(weight_, bias_, y, /*act_on_output=*/false);
}

}  // namespace wbary::maps
