#include "wbary/nn/picnn.h"

#include <torch/autograd.h>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "wbary/error.h"
#include "wbary/nn/icnn_cpu.h"
#include "wbary/nn/icnn_kernels.h"

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

// Network k's row of a stack's [K, ...] tensor (contiguous: a view into a flat buffer).
template <typename T>
T* row(const at::Tensor& t, int64_t k) {
  return t.data_ptr<T>() + k * (t.numel() / t.size(0));
}

// torch's softplus (beta 1, threshold 20) and its derivative, exactly as ATen computes them.
template <typename T>
T softplus(T x) {
  return x > T(20) ? x : std::log1p(std::exp(x));
}
template <typename T>
T softplus_slope(T x) {
  if (x > T(20)) return T(1);
  const T z = std::exp(x);
  return z / (z + T(1));
}

// The context path of one network at one context, kept for the chain rule:
// p1 = U1 c + s1, u1 = softplus(p1), p2 = U2 u1 + s2, u = softplus(p2),
// head = head_w u + head_b (nn/picnn.h).
template <typename T>
struct ContextPass {
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Vec p1, u1, p2, u, head;

  // theta: network k's context parameters (U1 [Hu, m], s1, U2 [Hu, Hu], s2, head_w [S, Hu], head_b [S]).
  void forward(const T* theta, const Vec& c, int64_t Hu, int64_t S) {
    const int64_t m = c.size();
    const T* U1 = theta;
    const T* s1 = U1 + Hu * m;
    const T* U2 = s1 + Hu;
    const T* s2 = U2 + Hu * Hu;
    const T* head_w = s2 + Hu;
    const T* head_b = head_w + S * Hu;
    p1 = Eigen::Map<const Mat>(U1, Hu, m) * c + Eigen::Map<const Vec>(s1, Hu);
    u1 = p1.unaryExpr([](T x) { return softplus(x); });
    p2 = Eigen::Map<const Mat>(U2, Hu, Hu) * u1 + Eigen::Map<const Vec>(s2, Hu);
    u = p2.unaryExpr([](T x) { return softplus(x); });
    head = Eigen::Map<const Mat>(head_w, S, Hu) * u + Eigen::Map<const Vec>(head_b, S);
  }

  // d head -> d theta (written into grad, laid out as theta).
  void backward(const T* theta, const Vec& c, const Vec& d_head, T* grad) const {
    const int64_t m = c.size(), Hu = u.size(), S = head.size();
    const T* U2 = theta + Hu * m + Hu;
    const T* head_w = U2 + Hu * Hu + Hu;
    T* dU1 = grad;
    T* ds1 = dU1 + Hu * m;
    T* dU2 = ds1 + Hu;
    T* ds2 = dU2 + Hu * Hu;
    T* d_head_w = ds2 + Hu;
    T* d_head_b = d_head_w + S * Hu;
    Eigen::Map<Mat>(d_head_w, S, Hu).noalias() = d_head * u.transpose();
    Eigen::Map<Vec>(d_head_b, S) = d_head;
    const Vec dp2 = ((Eigen::Map<const Mat>(head_w, S, Hu).transpose() * d_head).array() *
                     p2.unaryExpr([](T x) { return softplus_slope(x); }).array())
                        .matrix();
    Eigen::Map<Mat>(dU2, Hu, Hu).noalias() = dp2 * u1.transpose();
    Eigen::Map<Vec>(ds2, Hu) = dp2;
    const Vec dp1 = ((Eigen::Map<const Mat>(U2, Hu, Hu).transpose() * dp2).array() *
                     p1.unaryExpr([](T x) { return softplus_slope(x); }).array())
                        .matrix();
    Eigen::Map<Mat>(dU1, Hu, m).noalias() = dp1 * c.transpose();
    Eigen::Map<Vec>(ds1, Hu) = dp1;
  }
};

template <typename T>
typename ContextPass<T>::Vec context_vector(const at::Tensor& c) {
  const at::Tensor cc = c.to(at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value)).contiguous();
  return Eigen::Map<const typename ContextPass<T>::Vec>(cc.data_ptr<T>(), cc.numel());
}

// The head's segments in nn/picnn.h's order: x scales (d per layer), biases
// (H per layer), z scales (H per layer from the second), output scales (H),
// then the quadratic skip's a (d) and c (1).
template <typename T>
void write_effective(const IcnnWeights& base, const T* head, int64_t k, const IcnnWeights& out) {
  const size_t L = base.A.size();
  const int64_t H = base.A[0].size(1), d = base.A[0].size(2);
  const T* hx = head;
  for (size_t l = 0; l < L; ++l, hx += d) {
    const T* A = row<T>(base.A[l], k);
    T* E = row<T>(out.A[l], k);
    for (int64_t r = 0; r < H; ++r)
      for (int64_t j = 0; j < d; ++j) E[r * d + j] = A[r * d + j] * (hx[j] + T(1));
  }
  const T* hb = hx;
  for (size_t l = 0; l < L; ++l, hb += H) {
    const T* b = row<T>(base.b[l], k);
    T* E = row<T>(out.b[l], k);
    for (int64_t j = 0; j < H; ++j) E[j] = b[j] + hb[j];
  }
  const T* hz = hb;
  for (size_t l = 0; l + 1 < L; ++l, hz += H) {
    const T* W = row<T>(base.W[l], k);
    T* E = row<T>(out.W[l], k);
    for (int64_t r = 0; r < H; ++r)
      for (int64_t j = 0; j < H; ++j) E[r * H + j] = W[r * H + j] * std::max(hz[j] + T(1), T(0));
  }
  const T* w = row<T>(base.w, k);
  T* ew = row<T>(out.w, k);
  for (int64_t r = 0; r < H; ++r) ew[r] = w[r] * std::max(hz[r] + T(1), T(0));
  if (base.a.defined()) {
    const T* ha = hz + H;
    const T* a = row<T>(base.a, k);
    T* ea = row<T>(out.a, k);
    for (int64_t j = 0; j < d; ++j) ea[j] = a[j] + ha[j];
    row<T>(out.c, k)[0] = row<T>(base.c, k)[0] + ha[d];
  }
  for (size_t l = 0; l < base.slope.size(); ++l) row<T>(out.slope[l], k)[0] = row<T>(base.slope[l], k)[0];
}

// E = M diag(1 + s) (gated: diag(relu(1 + s))), M [rows, cols]: with
// G = dL/dE, writes dL/dM into D and dL/ds into ds.
template <typename T>
void scaled_columns_backward(const T* M, const T* G, T* D, int64_t rows, int64_t cols, const T* s, bool gated, T* ds) {
  for (int64_t j = 0; j < cols; ++j) ds[j] = T(0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      D[r * cols + j] = G[r * cols + j] * (gated ? std::max(s[j] + T(1), T(0)) : s[j] + T(1));
      ds[j] += G[r * cols + j] * M[r * cols + j];
    }
  if (gated) {
    for (int64_t j = 0; j < cols; ++j)
      if (!(s[j] + T(1) > T(0))) ds[j] = T(0);
  }
}

// The chain rule of write_effective: dL/d effective (gradient) -> dL/d base
// (into base_grad) and dL/d head (into d_head). relu's derivative at 0 is 0,
// as autograd's.
template <typename T>
void effective_backward(const IcnnWeights& base, const T* head, int64_t k, const IcnnWeights& gradient,
                        const IcnnWeights& base_grad, T* d_head) {
  const size_t L = base.A.size();
  const int64_t H = base.A[0].size(1), d = base.A[0].size(2);
  const T* hx = head;
  T* dh = d_head;
  for (size_t l = 0; l < L; ++l, hx += d, dh += d) {
    scaled_columns_backward<T>(row<T>(base.A[l], k), row<T>(gradient.A[l], k), row<T>(base_grad.A[l], k), H, d, hx,
                               /*gated=*/false, dh);
  }
  for (size_t l = 0; l < L; ++l, dh += H) {
    const T* G = row<T>(gradient.b[l], k);
    T* D = row<T>(base_grad.b[l], k);
    for (int64_t j = 0; j < H; ++j) D[j] = dh[j] = G[j];
  }
  const T* hz = hx + L * H;
  for (size_t l = 0; l + 1 < L; ++l, hz += H, dh += H) {
    scaled_columns_backward<T>(row<T>(base.W[l], k), row<T>(gradient.W[l], k), row<T>(base_grad.W[l], k), H, H, hz,
                               /*gated=*/true, dh);
  }
  {
    const T* w = row<T>(base.w, k);
    const T* G = row<T>(gradient.w, k);
    T* D = row<T>(base_grad.w, k);
    for (int64_t r = 0; r < H; ++r) {
      const bool open = hz[r] + T(1) > T(0);
      D[r] = open ? G[r] * (hz[r] + T(1)) : T(0);
      dh[r] = open ? G[r] * w[r] : T(0);
    }
    dh += H;
  }
  if (base.a.defined()) {
    const T* G = row<T>(gradient.a, k);
    T* D = row<T>(base_grad.a, k);
    for (int64_t j = 0; j < d; ++j) D[j] = dh[j] = G[j];
    row<T>(base_grad.c, k)[0] = dh[d] = row<T>(gradient.c, k)[0];
  }
  for (size_t l = 0; l < base.slope.size(); ++l) row<T>(base_grad.slope[l], k)[0] = row<T>(gradient.slope[l], k)[0];
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

void PicnnPotential::check_context(const at::Tensor& c) const {
  if (c.dim() != 1 || c.size(0) != context_dim_) {
    std::ostringstream got;
    got << c.sizes();
    throw InvalidArgument("PicnnPotential: expected a context of " + std::to_string(context_dim_) +
                          " values, got shape " + got.str());
  }
}

IcnnWeights PicnnPotential::effective(const at::Tensor& c) const {
  check_context(c);
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

namespace {

template <typename T>
void effective_into_cpu(const IcnnWeights& base, const at::Tensor& context, const at::Tensor& c, int64_t Hu,
                        int64_t S, const IcnnWeights& out) {
  const auto cv = context_vector<T>(c);
  const int64_t K = base.w.size(0), P = context.numel() / K;
  ContextPass<T> pass;
  for (int64_t k = 0; k < K; ++k) {
    pass.forward(context.data_ptr<T>() + k * P, cv, Hu, S);
    write_effective<T>(base, pass.head.data(), k, out);
  }
}

template <typename T>
void backward_at_cpu(const IcnnWeights& base, const at::Tensor& context, const at::Tensor& c, int64_t Hu, int64_t S,
                     const IcnnWeights& gradient, const IcnnWeights& base_grad, const at::Tensor& context_grad) {
  const auto cv = context_vector<T>(c);
  const int64_t K = base.w.size(0), P = context.numel() / K;
  ContextPass<T> pass;
  typename ContextPass<T>::Vec d_head(S);
  for (int64_t k = 0; k < K; ++k) {
    const T* theta = context.data_ptr<T>() + k * P;
    pass.forward(theta, cv, Hu, S);
    effective_backward<T>(base, pass.head.data(), k, gradient, base_grad, d_head.data());
    pass.backward(theta, cv, d_head, context_grad.data_ptr<T>() + k * P);
  }
}

}  // namespace

void PicnnPotential::effective_into(const at::Tensor& c, IcnnPotential& target) const {
  check_context(c);
  if (target.flat_parameters().numel() != base_->flat_parameters().numel() ||
      target.flat_parameters().scalar_type() != base_->flat_parameters().scalar_type()) {
    throw InvalidArgument("PicnnPotential::effective_into: the target network's shape or dtype differs from the "
                          "convex path's");
  }
  torch::NoGradGuard no_grad;
  if (!cpu::supported(*base_)) {  // the CPU kernels' dtypes and device
    copy_gradients(effective(c), target.weights());  // a field-by-field copy of values
    return;
  }
  if (context_.scalar_type() == at::kDouble) {
    effective_into_cpu<double>(base_->weights(), context_, c, config_.context_width, head_size_, target.weights());
  } else {
    effective_into_cpu<float>(base_->weights(), context_, c, config_.context_width, head_size_, target.weights());
  }
}

void PicnnPotential::backward_at(const at::Tensor& c, const IcnnWeights& gradient) {
  check_context(c);
  if (!cpu::supported(*base_)) {  // the CPU kernels' dtypes and device
    backward_effective(effective(c), gradient);
    return;
  }
  torch::NoGradGuard no_grad;
  for (const at::Tensor& t : tensors_of(gradient)) {
    if (!t.is_contiguous()) throw InvalidArgument("PicnnPotential::backward_at: gradients must be contiguous");
  }
  if (context_.scalar_type() == at::kDouble) {
    backward_at_cpu<double>(base_->weights(), context_, c, config_.context_width, head_size_, gradient,
                            base_->gradient_views(), context_grad_);
  } else {
    backward_at_cpu<float>(base_->weights(), context_, c, config_.context_width, head_size_, gradient,
                           base_->gradient_views(), context_grad_);
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
