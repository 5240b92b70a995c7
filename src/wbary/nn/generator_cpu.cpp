#include "wbary/nn/generator_cpu.h"

#include <Eigen/Core>

#include "wbary/error.h"
#include "wbary/nn/conditional_generator.h"
#include "wbary/nn/small_gemm.h"

namespace wbary::nn::cpu {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MapMat = Eigen::Map<Mat<T>>;
template <typename T>
using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;
template <typename T>
using MapRow = Eigen::Map<RowVec<T>>;

torch::nn::LinearImpl& linear(GeneratorImpl& h, size_t l) { return *h.linears()[l]->as<torch::nn::LinearImpl>(); }
torch::nn::BatchNorm1dImpl& norm(GeneratorImpl& h, size_t l) {
  return *h.norms()[l - 1]->as<torch::nn::BatchNorm1dImpl>();
}
torch::nn::PReLUImpl& prelu(GeneratorImpl& h, size_t l) { return *h.activations()[l]->as<torch::nn::PReLUImpl>(); }
// Layer l of n is a hidden block (neither the first nor the last Linear): it
// has the BatchNorm, if any, and GeneratorImpl::forward's modulation after it.
bool is_hidden_block(size_t l, size_t n) { return l > 0 && l + 1 < n; }
bool has_norm(const GeneratorImpl& h, size_t l, size_t n) { return h.config().batch_norm && is_hidden_block(l, n); }
bool has_activation(const GeneratorImpl& h, size_t l, size_t n) { return l + 1 < n || h.config().final_activation; }
bool is_modulated(const std::vector<Modulation>& m, size_t l, size_t n) { return !m.empty() && is_hidden_block(l, n); }

// .grad() of p, allocated as zeros where undefined.
at::Tensor& gradient_of(const at::Tensor& p) {
  at::Tensor& g = const_cast<at::Tensor&>(p).mutable_grad();
  if (!g.defined()) g = at::zeros_like(p);
  return g;
}

}  // namespace

bool GeneratorTrainingPass::supported(GeneratorImpl& h) {
  if (!h.is_training()) return false;
  const at::Tensor& w = linear(h, 0).weight;
  if (!w.device().is_cpu() || (w.scalar_type() != at::kFloat && w.scalar_type() != at::kDouble)) return false;
  for (const auto& p : h.parameters()) {
    if (!p.is_contiguous() || p.scalar_type() != w.scalar_type()) return false;
  }
  if (h.config().batch_norm) {
    for (size_t k = 0; k < h.norms()->size(); ++k) {
      const auto& o = norm(h, k + 1).options;
      if (!o.momentum().has_value() || !o.affine() || !o.track_running_stats()) return false;
    }
  }
  return true;
}

template <typename T>
static at::Tensor forward_impl(GeneratorImpl& h, const at::Tensor& z, const std::vector<Modulation>& modulation,
                               std::vector<at::Tensor>& inputs, std::vector<at::Tensor>& xhats,
                               std::vector<at::Tensor>& invstds, std::vector<at::Tensor>& mod_ins,
                               std::vector<at::Tensor>& act_ins) {
  torch::NoGradGuard no_grad;
  const size_t n = h.linears()->size();
  const int64_t B = z.size(0);
  at::Tensor x = z.contiguous();
  for (size_t l = 0; l < n; ++l) {
    auto& lin = linear(h, l);
    const int64_t out = lin.weight.size(0), in = lin.weight.size(1);
    if (x.size(1) != in) throw InvalidArgument("generator pass: input width " + std::to_string(x.size(1)) +
                                               ", layer " + std::to_string(l) + " expects " + std::to_string(in));
    inputs[l] = x;
    // u = x W^T + b: bias rows first, then the product accumulates (W^T copied: LIBXSMM has no kernel for it).
    at::Tensor u = at::empty({B, out}, x.options());
    T* ud = u.data_ptr<T>();
    fill_rows(ud, lin.bias.data_ptr<T>(), B, out);
    std::vector<T> wt(static_cast<size_t>(in * out));
    transpose<T>(lin.weight.data_ptr<T>(), wt.data(), out, in);
    small_gemm<T>(x.data_ptr<T>(), false, wt.data(), false, ud, B, out, in, /*accumulate=*/true);
    MapMat<T> U(ud, B, out);
    if (has_norm(h, l, n)) {
      // BatchNorm1d in train mode: batch mean and biased variance normalise;
      // the running variance takes the unbiased one (torch's convention).
      auto& bn = norm(h, l);
      const double eps = bn.options.eps(), momentum = *bn.options.momentum();
      const Eigen::Array<double, 1, Eigen::Dynamic> mean = U.template cast<double>().colwise().mean().array();
      const Eigen::Array<double, 1, Eigen::Dynamic> var =
          (U.template cast<double>().array().rowwise() - mean).square().colwise().sum() / static_cast<double>(B);
      at::Tensor invstd = at::empty({out}, x.options());
      MapRow<T> inv(invstd.data_ptr<T>(), out);
      inv = (var + eps).rsqrt().template cast<T>().matrix();
      U.array().rowwise() -= mean.template cast<T>();
      U.array().rowwise() *= inv.array();
      xhats[l] = u.clone();
      invstds[l] = invstd;
      U.array().rowwise() *= MapRow<T>(bn.weight.data_ptr<T>(), out).array();
      U.array().rowwise() += MapRow<T>(bn.bias.data_ptr<T>(), out).array();
      MapRow<T> rm(bn.running_mean.data_ptr<T>(), out), rv(bn.running_var.data_ptr<T>(), out);
      rm = ((1 - momentum) * rm.template cast<double>().array() + momentum * mean).template cast<T>().matrix();
      const double unbias = static_cast<double>(B) / static_cast<double>(B - 1);
      rv = ((1 - momentum) * rv.template cast<double>().array() + momentum * unbias * var).template cast<T>().matrix();
      bn.num_batches_tracked.add_(1);
    }
    if (is_modulated(modulation, l, n)) {
      mod_ins[l] = u.clone();
      U.array().rowwise() *= MapRow<T>(modulation[l - 1].scale.data_ptr<T>(), out).array();
      U.array().rowwise() += MapRow<T>(modulation[l - 1].shift.data_ptr<T>(), out).array();
    }
    if (has_activation(h, l, n)) {
      act_ins[l] = u;
      const T a = prelu(h, l).weight.data_ptr<T>()[0];
      at::Tensor o = at::empty_like(u);
      const T* s = ud;
      T* od = o.data_ptr<T>();
      for (int64_t i = 0; i < B * out; ++i) od[i] = s[i] > T(0) ? s[i] : a * s[i];
      x = o;
    } else {
      x = u;
    }
  }
  return x;
}

template <typename T>
static void backward_impl(GeneratorImpl& h, const at::Tensor& cotangent, const std::vector<Modulation>& modulation,
                          std::vector<Modulation>* modulation_gradient, const std::vector<at::Tensor>& inputs,
                          const std::vector<at::Tensor>& xhats, const std::vector<at::Tensor>& invstds,
                          const std::vector<at::Tensor>& mod_ins, const std::vector<at::Tensor>& act_ins) {
  torch::NoGradGuard no_grad;
  const size_t n = h.linears()->size();
  const int64_t B = cotangent.size(0);
  at::Tensor g = cotangent.contiguous().clone();
  for (size_t l = n; l-- > 0;) {
    auto& lin = linear(h, l);
    const int64_t out = lin.weight.size(0), in = lin.weight.size(1);
    T* gd = g.data_ptr<T>();
    if (has_activation(h, l, n)) {
      // PReLU: d/ds = 1 (s > 0) or a; d/da = s on s <= 0.
      const T a = prelu(h, l).weight.data_ptr<T>()[0];
      const T* s = act_ins[l].data_ptr<T>();
      double da = 0;
      for (int64_t i = 0; i < B * out; ++i) {
        if (!(s[i] > T(0))) {
          da += static_cast<double>(gd[i]) * static_cast<double>(s[i]);
          gd[i] *= a;
        }
      }
      gradient_of(prelu(h, l).weight).data_ptr<T>()[0] += static_cast<T>(da);
    }
    MapMat<T> G(gd, B, out);
    if (is_modulated(modulation, l, n)) {
      // v = u * s + t: ds = sum_b g u, dt = sum_b g, du = g s.
      if (modulation_gradient != nullptr) {
        const MapMat<T> Um(const_cast<T*>(mod_ins[l].data_ptr<T>()), B, out);
        Modulation& mg = (*modulation_gradient)[l - 1];
        mg.scale = at::empty({out}, g.options());
        mg.shift = at::empty({out}, g.options());
        MapRow<T>(mg.scale.data_ptr<T>(), out) = (G.array() * Um.array()).colwise().sum().matrix();
        MapRow<T>(mg.shift.data_ptr<T>(), out) = G.colwise().sum();
      }
      G.array().rowwise() *= MapRow<T>(modulation[l - 1].scale.data_ptr<T>(), out).array();
    }
    if (has_norm(h, l, n)) {
      // y = gamma xhat + beta with batch statistics: dgamma = sum_b g xhat,
      // dbeta = sum_b g, and du = gamma invstd (g - dbeta / B - xhat dgamma / B)
      // (the textbook dxhat = g gamma form with gamma taken out of the sums).
      auto& bn = norm(h, l);
      const MapMat<T> Xh(const_cast<T*>(xhats[l].data_ptr<T>()), B, out);
      const MapRow<T> inv(const_cast<T*>(invstds[l].data_ptr<T>()), out);
      const RowVec<T> dgamma = (G.array() * Xh.array()).colwise().sum().matrix();
      const RowVec<T> dbeta = G.colwise().sum();
      MapRow<T>(gradient_of(bn.weight).data_ptr<T>(), out) += dgamma;
      MapRow<T>(gradient_of(bn.bias).data_ptr<T>(), out) += dbeta;
      const T inv_b = T(1) / static_cast<T>(B);
      G = ((G.array().rowwise() - dbeta.array() * inv_b) - Xh.array().rowwise() * (dgamma.array() * inv_b)).matrix();
      G.array().rowwise() *= MapRow<T>(bn.weight.data_ptr<T>(), out).array() * inv.array();
    }
    // dW += g^T x, db += sum_b g, and g <- g W for the layer below.
    small_gemm<T>(gd, true, inputs[l].data_ptr<T>(), false, gradient_of(lin.weight).data_ptr<T>(), out, in, B,
                  /*accumulate=*/true);
    // A bias in front of a BatchNorm has a zero gradient (the batch mean
    // removes it); summing du would only add round-off, which Adam's
    // normalisation turns into a random walk of the bias by ~lr a step.
    at::Tensor& bias_grad = gradient_of(lin.bias);
    if (!has_norm(h, l, n)) MapRow<T>(bias_grad.data_ptr<T>(), out) += G.colwise().sum();
    if (l > 0) {
      at::Tensor below = at::empty({B, in}, g.options());
      small_gemm<T>(gd, false, lin.weight.data_ptr<T>(), false, below.data_ptr<T>(), B, in, out, false);
      g = below;
    }
  }
}

at::Tensor GeneratorTrainingPass::forward(GeneratorImpl& h, const at::Tensor& z, std::vector<Modulation> modulation) {
  const size_t n = h.linears()->size();
  if (h.config().batch_norm && z.size(0) < 2) throw InvalidArgument("generator pass: BatchNorm needs a batch of >= 2");
  h.check_modulation_count(modulation.size());
  const auto dtype = linear(h, 0).weight.scalar_type();
  for (Modulation& m : modulation) {
    if (m.scale.numel() != h.width() || m.shift.numel() != h.width()) {
      throw InvalidArgument("generator pass: a modulation of " + std::to_string(m.scale.numel()) + " / " +
                            std::to_string(m.shift.numel()) + " features for width " + std::to_string(h.width()));
    }
    m.scale = m.scale.detach().to(dtype).contiguous();
    m.shift = m.shift.detach().to(dtype).contiguous();
  }
  modulation_ = std::move(modulation);
  for (auto* v : {&inputs_, &xhats_, &invstds_, &mod_ins_, &act_ins_}) v->assign(n, at::Tensor());
  const at::Tensor zc = z.to(dtype);
  return zc.scalar_type() == at::kDouble
             ? forward_impl<double>(h, zc, modulation_, inputs_, xhats_, invstds_, mod_ins_, act_ins_)
             : forward_impl<float>(h, zc, modulation_, inputs_, xhats_, invstds_, mod_ins_, act_ins_);
}

void GeneratorTrainingPass::backward(GeneratorImpl& h, const at::Tensor& cotangent,
                                     std::vector<Modulation>* modulation_gradient) {
  if (inputs_.size() != h.linears()->size() || !inputs_[0].defined()) {
    throw InvalidArgument("generator pass: backward() before forward()");
  }
  if (modulation_gradient != nullptr) modulation_gradient->assign(modulation_.size(), Modulation{});
  const at::Tensor c = cotangent.to(linear(h, 0).weight.scalar_type());
  if (c.scalar_type() == at::kDouble) {
    backward_impl<double>(h, c, modulation_, modulation_gradient, inputs_, xhats_, invstds_, mod_ins_, act_ins_);
  } else {
    backward_impl<float>(h, c, modulation_, modulation_gradient, inputs_, xhats_, invstds_, mod_ins_, act_ins_);
  }
}

bool ConditionalGeneratorTrainingPass::supported(ConditionalGeneratorImpl& h) {
  return h.is_training() && GeneratorTrainingPass::supported(*h.body());
}

at::Tensor ConditionalGeneratorTrainingPass::forward(ConditionalGeneratorImpl& h, const at::Tensor& z,
                                                     const at::Tensor& c) {
  torch::NoGradGuard no_grad;
  const auto dtype = h.output_scale().scalar_type();
  context_ = c.detach().to(dtype).reshape({-1}).contiguous();
  const int64_t m = context_.numel(), B = z.size(0);
  if (m != h.output_scale().size(1)) {
    throw InvalidArgument("generator pass: a context of " + std::to_string(m) + " values, h takes " +
                          std::to_string(h.output_scale().size(1)));
  }
  // One context for the batch: FiLM's and the output's scales and shifts are
  // per-feature constants, (1 + A_l c, B_l c) and (1 + S c, T c).
  std::vector<Modulation> modulation;
  for (size_t l = 0; l < h.film_scales().size(); ++l) {
    modulation.push_back({1 + at::mv(h.film_scales()[l], context_), at::mv(h.film_shifts()[l], context_)});
  }
  output_scale_ = 1 + at::mv(h.output_scale(), context_);
  body_out_ = body_.forward(*h.body(), at::cat({z.to(dtype), context_.unsqueeze(0).expand({B, m})}, 1),
                            std::move(modulation));
  return body_out_ * output_scale_ + at::mv(h.output_shift(), context_);
}

void ConditionalGeneratorTrainingPass::backward(ConditionalGeneratorImpl& h, const at::Tensor& cotangent) {
  if (!body_out_.defined()) throw InvalidArgument("generator pass: backward() before forward()");
  torch::NoGradGuard no_grad;
  const at::Tensor cot = cotangent.to(body_out_.scalar_type());
  // y = b * (1 + S c) + T c: dS = (sum_b g b) c^T, dT = (sum_b g) c^T, db = g (1 + S c).
  gradient_of(h.output_scale()).add_(at::outer((cot * body_out_).sum(0), context_));
  gradient_of(h.output_shift()).add_(at::outer(cot.sum(0), context_));
  std::vector<Modulation> dmod;
  body_.backward(*h.body(), cot * output_scale_, &dmod);
  for (size_t l = 0; l < dmod.size(); ++l) {
    gradient_of(h.film_scales()[l]).add_(at::outer(dmod[l].scale, context_));
    gradient_of(h.film_shifts()[l]).add_(at::outer(dmod[l].shift, context_));
  }
}

}  // namespace wbary::nn::cpu
