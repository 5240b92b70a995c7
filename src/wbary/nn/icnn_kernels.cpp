#include "wbary/nn/icnn_kernels.h"

#include <torch/autograd.h>

#include "wbary/error.h"

namespace wbary::nn {
namespace {

// Derivatives of layer l's activation act_l (act_0 = phi, possibly squared)
// at the tape's p_l: first and second derivative in p, and the derivatives
// of value and first derivative in the PReLU slope s.
struct ActivationDerivatives {
  at::Tensor d1, d2, ds_value, ds_d1;
};

ActivationDerivatives derivatives(const IcnnConfig& cfg, const IcnnWeights& wt, const IcnnTape& tape, size_t l,
                                  bool need_d2, bool need_slope) {
  const at::Tensor& p = tape.p[l];
  ActivationDerivatives r;
  at::Tensor s1, s2, sds_value, sds_d1;  // of the plain activation sigma
  if (cfg.activation == IcnnActivation::kCelu) {
    s1 = at::exp(at::clamp_max(p, 0));  // CELU(alpha=1)': 1 for p > 0, e^p otherwise
    if (need_d2) s2 = s1 * (p <= 0);    // CELU'': 0 for p > 0, e^p otherwise
  } else {
    const at::Tensor neg = p <= 0;
    s1 = at::where(neg, wt.slope[l].expand_as(p), at::ones_like(p));
    if (need_d2) s2 = at::zeros_like(p);
    if (need_slope) {
      sds_value = at::clamp_max(p, 0);  // d(s p)/ds on p <= 0
      sds_d1 = neg.to(p.scalar_type());
    }
  }
  if (l == 0 && cfg.square_first_layer) {
    // phi = sigma^2: phi' = 2 sigma sigma', phi'' = 2 (sigma'^2 + sigma sigma'').
    const at::Tensor& sg = tape.first_activation;
    r.d1 = 2 * sg * s1;
    if (need_d2) r.d2 = 2 * (s1 * s1 + sg * s2);
    if (need_slope && sds_value.defined()) {
      r.ds_value = 2 * sg * sds_value;
      r.ds_d1 = 2 * (sds_value * s1 + sg * sds_d1);
    }
  } else {
    r.d1 = s1;
    r.d2 = s2;
    r.ds_value = sds_value;
    r.ds_d1 = sds_d1;
  }
  return r;
}

at::Tensor activate(const IcnnConfig& cfg, const IcnnWeights& wt, const at::Tensor& p, size_t l) {
  if (cfg.activation == IcnnActivation::kCelu) return at::celu(p);
  return at::where(p > 0, p, wt.slope[l] * p);
}

IcnnWeights empty_like_structure(const IcnnWeights& wt) {
  IcnnWeights g;
  g.A.resize(wt.A.size());
  g.b.resize(wt.b.size());
  g.W.resize(wt.W.size());
  g.slope.resize(wt.slope.size());
  return g;
}

}  // namespace

IcnnTape icnn_forward(const IcnnConfig& cfg, const IcnnWeights& wt, const at::Tensor& x) {
  // No NoGradGuard: icnn_value differentiates through this pass with autograd.
  const size_t L = wt.A.size();
  IcnnTape t;
  t.x = x;
  t.p.resize(L);
  t.z.resize(L + 1);
  t.p[0] = at::baddbmm(wt.b[0], x, wt.A[0].transpose(1, 2));
  t.first_activation = activate(cfg, wt, t.p[0], 0);
  if (cfg.square_first_layer && cfg.square_offset != 0) t.first_activation = t.first_activation + cfg.square_offset;
  t.z[1] = cfg.square_first_layer ? t.first_activation * t.first_activation : t.first_activation;
  for (size_t l = 1; l < L; ++l) {
    t.p[l] = at::baddbmm(at::baddbmm(wt.b[l], x, wt.A[l].transpose(1, 2)), t.z[l], wt.W[l - 1].transpose(1, 2));
    t.z[l + 1] = activate(cfg, wt, t.p[l], l);
  }
  t.value = at::bmm(t.z[L], wt.w).squeeze(-1);
  if (cfg.quadratic_skip) {
    t.q = at::baddbmm(wt.c, x, wt.a);
    t.value = t.value + t.q.squeeze(-1).square();
  }
  return t;
}

void icnn_backward_gradient(const IcnnConfig& cfg, const IcnnWeights& wt, IcnnTape& t) {
  torch::NoGradGuard no_grad;
  const size_t L = wt.A.size();
  t.delta.assign(L, at::Tensor());
  t.delta[L - 1] = derivatives(cfg, wt, t, L - 1, false, false).d1 * wt.w.transpose(1, 2);
  at::Tensor grad = at::bmm(t.delta[L - 1], wt.A[L - 1]);
  for (size_t l = L - 1; l >= 1; --l) {
    t.delta[l - 1] = at::bmm(t.delta[l], wt.W[l - 1]) * derivatives(cfg, wt, t, l - 1, false, false).d1;
    grad = at::baddbmm(grad, t.delta[l - 1], wt.A[l - 1]);
  }
  if (cfg.quadratic_skip) grad = at::addcmul(grad, t.q, wt.a.transpose(1, 2), 2.0);
  t.gradient = grad;
}

IcnnWeights icnn_value_parameter_gradient(const IcnnConfig& cfg, const IcnnWeights& wt, const IcnnTape& t,
                                          const at::Tensor& cot) {
  torch::NoGradGuard no_grad;
  const size_t L = wt.A.size();
  const bool prelu = cfg.activation == IcnnActivation::kPrelu;
  IcnnWeights g = empty_like_structure(wt);
  const at::Tensor c3 = cot.unsqueeze(-1);  // [K, B, 1]
  g.w = at::bmm(t.z[L].transpose(1, 2), c3);
  at::Tensor zbar = c3 * wt.w.transpose(1, 2);  // d/dz_L, [K, B, H]
  for (size_t l = L; l-- > 0;) {
    const ActivationDerivatives act = derivatives(cfg, wt, t, l, false, prelu);
    if (prelu) g.slope[l] = (zbar * act.ds_value).sum({1, 2}).view({-1, 1, 1});
    const at::Tensor pbar = zbar * act.d1;
    g.A[l] = at::bmm(pbar.transpose(1, 2), t.x);
    g.b[l] = pbar.sum(1, /*keepdim=*/true);
    if (l >= 1) {
      g.W[l - 1] = at::bmm(pbar.transpose(1, 2), t.z[l]);
      zbar = at::bmm(pbar, wt.W[l - 1]);
    }
  }
  if (cfg.quadratic_skip) {
    const at::Tensor qbar = 2 * t.q * c3;  // [K, B, 1]
    g.a = at::bmm(t.x.transpose(1, 2), qbar);
    g.c = qbar.sum(1, /*keepdim=*/true);
  }
  return g;
}

IcnnWeights icnn_directional_parameter_gradient(const IcnnConfig& cfg, const IcnnWeights& wt, const IcnnTape& t,
                                                const at::Tensor& v, at::Tensor* hessian_vector) {
  torch::NoGradGuard no_grad;
  const size_t L = wt.A.size();
  const bool prelu = cfg.activation == IcnnActivation::kPrelu;
  IcnnWeights g = empty_like_structure(wt);
  // Tangent sweep along v (DESIGN.md §2): pdot_l and zdot_{l+1}.
  std::vector<ActivationDerivatives> act(L);
  std::vector<at::Tensor> pdot(L), zdot(L + 1);
  for (size_t l = 0; l < L; ++l) {
    act[l] = derivatives(cfg, wt, t, l, /*need_d2=*/true, prelu);
    pdot[l] = at::bmm(v, wt.A[l].transpose(1, 2));
    if (l >= 1) pdot[l] = at::baddbmm(pdot[l], zdot[l], wt.W[l - 1].transpose(1, 2));
    zdot[l + 1] = act[l].d1 * pdot[l];
  }
  // S = w . zdot_L + 2 (a.v)(a.x + c).
  g.w = zdot[L].sum(1).unsqueeze(-1);
  at::Tensor xbar;  // d S / d x, when asked for
  // Reverse over primal and tangent together. The tangent adjoints
  // pdotbar_l are the gradient-map deltas; zdotbar_{l+1} = W_{l+1}^T delta_{l+1}
  // (or w for the last layer); the primal adjoint starts at zbar_L = 0.
  at::Tensor zbar;  // undefined = 0
  for (size_t l = L; l-- > 0;) {
    const at::Tensor& delta = t.delta[l];
    const at::Tensor zdotbar = (l + 1 == L) ? wt.w.transpose(1, 2).expand_as(pdot[l])
                                            : at::bmm(t.delta[l + 1], wt.W[l]);
    // p_l's adjoint: through act'(p_l) in the tangent, and through act(p_l) in the primal.
    at::Tensor pbar = act[l].d2 * pdot[l] * zdotbar;
    if (zbar.defined()) pbar = at::addcmul(pbar, act[l].d1, zbar);
    if (prelu) {
      at::Tensor ds = (zdotbar * pdot[l] * act[l].ds_d1).sum({1, 2});
      if (zbar.defined()) ds = ds + (zbar * act[l].ds_value).sum({1, 2});
      g.slope[l] = ds.view({-1, 1, 1});
    }
    g.A[l] = at::baddbmm(at::bmm(pbar.transpose(1, 2), t.x), delta.transpose(1, 2), v);
    g.b[l] = pbar.sum(1, /*keepdim=*/true);
    // x enters S only through p_l = A_l x + ... (and q below): xbar += pbar_l A_l.
    if (hessian_vector) xbar = xbar.defined() ? at::baddbmm(xbar, pbar, wt.A[l]) : at::bmm(pbar, wt.A[l]);
    if (l >= 1) {
      g.W[l - 1] = at::baddbmm(at::bmm(pbar.transpose(1, 2), t.z[l]), delta.transpose(1, 2), zdot[l]);
      zbar = at::bmm(pbar, wt.W[l - 1]);
    }
  }
  if (cfg.quadratic_skip) {
    const at::Tensor av = at::bmm(v, wt.a);  // [K, B, 1]
    // dS/da = 2 (a.v) x + 2 (a.x + c) v,  dS/dc = 2 (a.v).
    g.a = at::baddbmm(at::bmm(t.x.transpose(1, 2), av), v.transpose(1, 2), t.q) * 2;
    g.c = 2 * av.sum(1, /*keepdim=*/true);
    // dS/dx = 2 (a.v) a.
    if (hessian_vector) xbar = at::addcmul(xbar, av, wt.a.transpose(1, 2), 2.0);
  }
  if (hessian_vector) *hessian_vector = xbar;
  return g;
}

void add_gradients(IcnnWeights& into, const IcnnWeights& g) {
  torch::NoGradGuard no_grad;
  auto add = [](at::Tensor& a, const at::Tensor& b) {
    if (!b.defined()) return;
    a = a.defined() ? a + b : b;
  };
  for (size_t l = 0; l < g.A.size(); ++l) add(into.A[l], g.A[l]);
  for (size_t l = 0; l < g.b.size(); ++l) add(into.b[l], g.b[l]);
  for (size_t l = 0; l < g.W.size(); ++l) add(into.W[l], g.W[l]);
  for (size_t l = 0; l < g.slope.size(); ++l) add(into.slope[l], g.slope[l]);
  add(into.w, g.w);
  add(into.a, g.a);
  add(into.c, g.c);
}

std::string to_string(Engine e) { return e == Engine::kFused ? "fused" : "autograd"; }

Engine parse_engine(const std::string& name) {
  if (name == "fused") return Engine::kFused;
  if (name == "autograd") return Engine::kAutograd;
  throw InvalidArgument("engine '" + name + "': expected 'fused' or 'autograd'");
}

void add_convexity_penalty_gradient(const IcnnWeights& wt, double lambda, IcnnWeights& g) {
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < wt.W.size(); ++l) g.W[l] = g.W[l] - (2 * lambda) * at::relu(-wt.W[l]);
  g.w = g.w - (2 * lambda) * at::relu(-wt.w);
}

void copy_gradients(const IcnnWeights& grads, const IcnnWeights& dest) {
  torch::NoGradGuard no_grad;
  auto copy = [](const at::Tensor& g, const at::Tensor& d) {
    if (d.defined()) const_cast<at::Tensor&>(d).copy_(g);
  };
  for (size_t l = 0; l < dest.A.size(); ++l) copy(grads.A[l], dest.A[l]);
  for (size_t l = 0; l < dest.b.size(); ++l) copy(grads.b[l], dest.b[l]);
  for (size_t l = 0; l < dest.W.size(); ++l) copy(grads.W[l], dest.W[l]);
  for (size_t l = 0; l < dest.slope.size(); ++l) copy(grads.slope[l], dest.slope[l]);
  copy(grads.w, dest.w);
  copy(grads.a, dest.a);
  copy(grads.c, dest.c);
}

}  // namespace wbary::nn
