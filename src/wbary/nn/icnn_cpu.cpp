#include "wbary/nn/icnn_cpu.h"

#include <ATen/Parallel.h>

// Parallelism is across the K networks, or inside each product where there
// are many more threads than networks (for_each_network).
#include <Eigen/Core>
#include <vector>

#include "wbary/nn/small_gemm.h"

namespace wbary::nn::cpu {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <typename T>
using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;
template <typename T>
using MapMat = Eigen::Map<Mat<T>>;
template <typename T>
using CMapMat = Eigen::Map<const Mat<T>>;
template <typename T>
using MapRow = Eigen::Map<RowVec<T>>;
template <typename T>
using CMapRow = Eigen::Map<const RowVec<T>>;

// Network k of a stack, as raw pointers into [K, out, in] parameter tensors.
template <typename P>
struct Net {
  std::vector<P*> A, b, W, slope;
  P *w = nullptr, *a = nullptr, *c = nullptr;
};

template <typename T, typename P>
Net<P> network(const IcnnWeights& wt, int64_t k) {
  auto ptr = [k](const at::Tensor& t) -> P* {
    if (!t.defined()) return nullptr;
    return const_cast<P*>(t.data_ptr<T>()) + k * (t.numel() / t.size(0));
  };
  Net<P> n;
  for (const auto& t : wt.A) n.A.push_back(ptr(t));
  for (const auto& t : wt.b) n.b.push_back(ptr(t));
  for (const auto& t : wt.W) n.W.push_back(ptr(t));
  for (const auto& t : wt.slope) n.slope.push_back(ptr(t));
  n.w = ptr(wt.w);
  n.a = ptr(wt.a);
  n.c = ptr(wt.c);
  return n;
}

// Per-thread buffers for one network at one batch size: sized on first use
// and reused, so the training loop allocates nothing here.
template <typename T>
struct Pass {
  std::vector<Mat<T>> p, z, d1, d2, ds_value, ds_d1, delta;
  // dz_l = delta_{l+1} W_l = df/dz_{l+1} (l = 0..L-2), kept from the reverse
  // sweep: the g-step's directional derivative needs the same product.
  std::vector<Mat<T>> dz;
  // A_l^T and W_l^T of the network the pass ran: x A^T becomes a plain
  // product (LIBXSMM's JIT has no kernel with that operand transposed).
  std::vector<Mat<T>> At, Wt;
  Mat<T> first, grad;
  Vec<T> q, value;
};

// CELU (alpha = 1) and its derivatives in one pass over p, given e = exp(min(p, 0)) in d1:
// sigma = p (p > 0) or e - 1, sigma' = e (exactly 1 for p > 0), sigma'' = 0 (p > 0) or e.
// With `square`, the layer is phi = (sigma + offset)^2 and d1, d2 become
// phi' = 2 sg sigma', phi'' = 2 (sigma'^2 + sg sigma'') with sg = sigma + offset.
// One loop instead of Eigen's two selects, which GCC vectorised one row at a
// time with alias checks per row (a fifth of the forward pass at d = 16, perf).
template <typename T, bool kSquare, bool kNeedD2>
void celu_layer(int64_t size, const T* __restrict p, T* __restrict d1, T* __restrict d2, T* __restrict out,
                T offset) {
  for (int64_t i = 0; i < size; ++i) {
    const bool positive = p[i] > T(0);
    const T e = d1[i];
    const T sigma = positive ? p[i] : e - T(1);
    const T sigma2 = positive ? T(0) : e;
    if constexpr (kSquare) {
      const T sg = sigma + offset;
      out[i] = sg * sg;
      if constexpr (kNeedD2) d2[i] = 2 * (e * e + sg * sigma2);
      d1[i] = 2 * sg * e;
    } else {
      out[i] = sigma;
      if constexpr (kNeedD2) d2[i] = sigma2;
    }
  }
}

template <typename T>
struct Workspace {
  Pass<T> g, f;
  std::vector<Mat<T>> pdot, zdot;
  Mat<T> v, pbar, zbar, tmp;
  Vec<T> av, qbar;
};

template <typename T>
Workspace<T>& workspace() {
  thread_local Workspace<T> ws;
  return ws;
}

// dst = a b (or += when accumulate), row-major Eigen operands, through
// small_gemm; trans_* say that the stored operand is the transpose.
template <typename T, typename D, typename A, typename B>
void product(D& dst, const A& a, bool trans_a, const B& b, bool trans_b, bool accumulate = false) {
  const int64_t m = trans_a ? a.cols() : a.rows(), k = trans_a ? a.rows() : a.cols();
  const int64_t n = trans_b ? b.rows() : b.cols();
  small_gemm<T>(a.data(), trans_a, b.data(), trans_b, dst.data(), m, n, k, accumulate);
}

template <typename T>
class Kernels {
 public:
  Kernels(const IcnnPotential& net) : cfg_(net.config()), L_(cfg_.hidden_layers), H_(cfg_.width), d_(net.dim()) {}

  // Forward pass and activation derivatives (d2 and slope terms on request).
  void forward(const Net<const T>& n, const CMapMat<T>& x, Pass<T>& s, bool need_d2) const {
    const int64_t B = x.rows();
    const bool prelu = cfg_.activation == IcnnActivation::kPrelu;
    s.p.resize(L_);
    s.z.resize(L_ + 1);
    s.d1.resize(L_);
    s.d2.resize(L_);
    s.ds_value.resize(L_);
    s.ds_d1.resize(L_);
    s.At.resize(L_);
    s.Wt.resize(L_);
    for (int64_t l = 0; l < L_; ++l) {
      s.At[l].resize(d_, H_);
      transpose<T>(n.A[l], s.At[l].data(), H_, d_);
      if (l >= 1) {
        s.Wt[l].resize(H_, H_);
        transpose<T>(n.W[l - 1], s.Wt[l].data(), H_, H_);
      }
    }
    for (int64_t l = 0; l < L_; ++l) {
      Mat<T>& p = s.p[l];
      // p = b + x A^T (+ z W^T): the bias first, so that the products
      // accumulate onto it instead of a separate pass adding it.
      p.resize(B, H_);
      fill_rows(p.data(), n.b[l], B, H_);
      product<T>(p, x, false, s.At[l], false, /*accumulate=*/true);
      if (l >= 1) product<T>(p, s.z[l], false, s.Wt[l], false, /*accumulate=*/true);
      // sigma, sigma', sigma'' (and d/ds for PReLU) elementwise.
      const bool square = l == 0 && cfg_.square_first_layer;
      s.d1[l].resize(B, H_);
      if (need_d2) s.d2[l].resize(B, H_);
      if (!prelu) {
        s.z[l + 1].resize(B, H_);
        s.d1[l].array() = p.array().min(T(0)).exp();  // Eigen's vectorised exp
        const T offset = static_cast<T>(cfg_.square_offset);
        T* d2 = need_d2 ? s.d2[l].data() : nullptr;
        const auto run = [&](auto layer) { layer(B * H_, p.data(), s.d1[l].data(), d2, s.z[l + 1].data(), offset); };
        if (square) {
          need_d2 ? run(celu_layer<T, true, true>) : run(celu_layer<T, true, false>);
        } else {
          need_d2 ? run(celu_layer<T, false, true>) : run(celu_layer<T, false, false>);
        }
        continue;
      }
      // PReLU, with d/d(slope) of sigma and sigma' for the slope's gradient.
      Mat<T>& out = square ? s.first : s.z[l + 1];
      out.resize(B, H_);
      s.ds_value[l].resize(B, H_);
      s.ds_d1[l].resize(B, H_);
      const auto P = p.array();
      const T slope = n.slope[l][0];
      out.array() = (P > T(0)).select(P, slope * P);
      s.d1[l].array() = (P > T(0)).select(T(1), Mat<T>::Constant(B, H_, slope).array());
      if (need_d2) s.d2[l].setZero();
      s.ds_value[l].array() = P.min(T(0));
      s.ds_d1[l].array() = (P > T(0)).select(T(0), Mat<T>::Ones(B, H_).array());
      if (square) {
        // phi = (sigma + offset)^2 = sg^2: phi' = 2 sg sigma', phi'' = 2 (sigma'^2 + sg sigma'').
        if (cfg_.square_offset != 0) s.first.array() += T(cfg_.square_offset);
        auto sg = s.first.array();
        s.z[1] = sg.square().matrix();
        s.ds_d1[0] = (2 * (s.ds_value[0].array() * s.d1[0].array() + sg * s.ds_d1[0].array())).matrix();
        s.ds_value[0] = (2 * sg * s.ds_value[0].array()).matrix();
        if (need_d2) s.d2[0] = (2 * (s.d1[0].array().square() + sg * s.d2[0].array())).matrix();
        s.d1[0] = (2 * sg * s.d1[0].array()).matrix();
      }
    }
    s.value.resize(B);
    s.value.noalias() = s.z[L_] * Eigen::Map<const Vec<T>>(n.w, H_);
    if (cfg_.quadratic_skip) {
      s.q.resize(B);
      s.q.noalias() = x * Eigen::Map<const Vec<T>>(n.a, d_);
      s.q.array() += n.c[0];
      s.value.array() += s.q.array().square();
    }
  }

  // delta_l = df/dp_l and grad f(x) (one reverse sweep).
  void backward_gradient(const Net<const T>& n, Pass<T>& s) const {
    const int64_t B = s.p[0].rows();
    s.delta.resize(L_);
    s.delta[L_ - 1] = (s.d1[L_ - 1].array().rowwise() * CMapRow<T>(n.w, H_).array()).matrix();
    s.grad.resize(B, d_);
    product<T>(s.grad, s.delta[L_ - 1], false, CMapMat<T>(n.A[L_ - 1], H_, d_), false);
    s.dz.resize(L_ - 1);
    for (int64_t l = L_ - 1; l >= 1; --l) {
      Mat<T>& dz = s.dz[l - 1];
      dz.resize(B, H_);
      product<T>(dz, s.delta[l], false, CMapMat<T>(n.W[l - 1], H_, H_), false);
      s.delta[l - 1] = (dz.array() * s.d1[l - 1].array()).matrix();
      product<T>(s.grad, s.delta[l - 1], false, CMapMat<T>(n.A[l - 1], H_, d_), false, /*accumulate=*/true);
    }
    if (cfg_.quadratic_skip) s.grad.noalias() += 2 * s.q * CMapRow<T>(n.a, d_);
  }

  // Parameter gradient of sum_b cot_b f(x_b).
  void value_backward(const Net<const T>& n, const Net<T>& gr, const CMapMat<T>& x, const Pass<T>& s,
                      const Eigen::Map<const Vec<T>>& cot, Workspace<T>& ws) const {
    const int64_t B = x.rows();
    Eigen::Map<Vec<T>>(gr.w, H_).noalias() = s.z[L_].transpose() * cot;
    ws.zbar.resize(B, H_);
    ws.zbar.noalias() = cot * CMapRow<T>(n.w, H_);
    for (int64_t l = L_ - 1; l >= 0; --l) {
      if (!gr.slope.empty()) gr.slope[l][0] = (ws.zbar.array() * s.ds_value[l].array()).sum();
      ws.pbar = (ws.zbar.array() * s.d1[l].array()).matrix();
      MapMat<T> dA(gr.A[l], H_, d_);
      product<T>(dA, ws.pbar, true, x, false);
      MapRow<T>(gr.b[l], H_) = ws.pbar.colwise().sum();
      if (l >= 1) {
        MapMat<T> dW(gr.W[l - 1], H_, H_);
        product<T>(dW, ws.pbar, true, s.z[l], false);
        product<T>(ws.zbar, ws.pbar, false, CMapMat<T>(n.W[l - 1], H_, H_), false);
      }
    }
    if (cfg_.quadratic_skip) {
      ws.qbar = (2 * s.q.array() * cot.array()).matrix();
      Eigen::Map<Vec<T>>(gr.a, d_).noalias() = x.transpose() * ws.qbar;
      gr.c[0] = ws.qbar.sum();
    }
  }

  // Parameter gradient of sum_b v_b . grad f(x_b) (DESIGN.md §2), given the
  // forward pass with d2 and the deltas.
  void directional_backward(const Net<const T>& n, const Net<T>& gr, const CMapMat<T>& x, const Pass<T>& s,
                            const Mat<T>& v, Workspace<T>& ws) const {
    const int64_t B = x.rows();
    ws.pdot.resize(L_);
    ws.zdot.resize(L_ + 1);
    for (int64_t l = 0; l < L_; ++l) {
      ws.pdot[l].resize(B, H_);
      product<T>(ws.pdot[l], v, false, s.At[l], false);
      if (l >= 1) product<T>(ws.pdot[l], ws.zdot[l], false, s.Wt[l], false, /*accumulate=*/true);
      ws.zdot[l + 1] = (s.d1[l].array() * ws.pdot[l].array()).matrix();
    }
    MapRow<T>(gr.w, H_) = ws.zdot[L_].colwise().sum();
    bool have_zbar = false;
    for (int64_t l = L_ - 1; l >= 0; --l) {
      if (l == L_ - 1) {
        ws.pbar = (s.d2[l].array() * ws.pdot[l].array()).rowwise() * CMapRow<T>(n.w, H_).array();
      } else {
        // d/dz_{l+1} of f is delta_{l+1} W_l, already formed by backward_gradient.
        ws.pbar = (s.d2[l].array() * ws.pdot[l].array() * s.dz[l].array()).matrix();
      }
      if (!gr.slope.empty()) {
        T ds = (l == L_ - 1) ? ((ws.pdot[l].array() * s.ds_d1[l].array()).rowwise() * CMapRow<T>(n.w, H_).array()).sum()
                             : (s.dz[l].array() * ws.pdot[l].array() * s.ds_d1[l].array()).sum();
        if (have_zbar) ds += (ws.zbar.array() * s.ds_value[l].array()).sum();
        gr.slope[l][0] = ds;
      }
      if (have_zbar) ws.pbar.array() += s.d1[l].array() * ws.zbar.array();
      MapMat<T> dA(gr.A[l], H_, d_);
      product<T>(dA, ws.pbar, true, x, false);
      product<T>(dA, s.delta[l], true, v, false, /*accumulate=*/true);
      MapRow<T>(gr.b[l], H_) = ws.pbar.colwise().sum();
      if (l >= 1) {
        MapMat<T> dW(gr.W[l - 1], H_, H_);
        product<T>(dW, ws.pbar, true, s.z[l], false);
        product<T>(dW, s.delta[l], true, ws.zdot[l], false, /*accumulate=*/true);
        ws.zbar.resize(B, H_);
        product<T>(ws.zbar, ws.pbar, false, CMapMat<T>(n.W[l - 1], H_, H_), false);
        have_zbar = true;
      }
    }
    if (cfg_.quadratic_skip) {
      ws.av.resize(B);
      ws.av.noalias() = v * Eigen::Map<const Vec<T>>(n.a, d_);
      Eigen::Map<Vec<T>> da(gr.a, d_);
      da.noalias() = 2 * x.transpose() * ws.av;
      da.noalias() += 2 * v.transpose() * s.q;
      gr.c[0] = 2 * ws.av.sum();
    }
  }

  // d/dW lambda sum ||max(-W, 0)||^2 = -2 lambda max(-W, 0).
  void add_penalty(const Net<const T>& n, const Net<T>& gr, double lambda) const {
    const T c = static_cast<T>(2 * lambda);
    for (int64_t l = 1; l < L_; ++l) {
      MapMat<T>(gr.W[l - 1], H_, H_).array() -= c * (-CMapMat<T>(n.W[l - 1], H_, H_).array()).max(T(0));
    }
    Eigen::Map<Vec<T>>(gr.w, H_).array() -= c * (-Eigen::Map<const Vec<T>>(n.w, H_).array()).max(T(0));
  }

 private:
  IcnnConfig cfg_;
  int64_t L_, H_, d_;
};

// Runs body(k) for the K networks of a stack. Small networks run one after
// another on one thread: measured on 2 cores, d = 2 (width 4) ran 2.2x and
// d = 16 (width 32, 1.5e5 multiply-adds per layer) 1.2x slower split across
// networks, and Eigen splitting each small product 1.2-1.8x slower. From
// 2.5e5 per layer one network per thread pays on 2 cores (2026-12-02: d = 16's
// f-step at 3.1e5 1.08x faster, d = 2 at batch 400 (4.4e5) 1.4x, d = 8 even;
// BENCHMARKS.md). When there are at least twice as many threads as networks
// the networks run in turn and Eigen splits each product over all threads,
// from 5e5 (the cut measured before), so that 16 cores do not sit at 3 busy
// threads with N = 3 inputs (measured on 16 cores before: autograd, whose
// products use every thread, was 3.4x faster than this engine at d = 256).
template <typename Body>
void for_each_network(const IcnnPotential& net, int64_t batch, const Body& body) {
  const int64_t h = net.config().width;
  const int threads = at::get_num_threads();
  const int64_t work = batch * h * (h + net.dim());
  const bool many_threads = threads >= 2 * net.count();
  if (threads == 1 || many_threads || work < 250000) {
    Eigen::setNbThreads(many_threads && work >= 500000 ? threads : 1);
    for (int64_t k = 0; k < net.count(); ++k) body(k);
    Eigen::setNbThreads(1);
    return;
  }
  Eigen::setNbThreads(1);
  at::parallel_for(0, net.count(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) body(k);
  });
}

template <typename T>
void g_step_impl(const IcnnPotential& g, const IcnnPotential& f, const at::Tensor& y, double penalty, double* loss) {
  const int64_t B = y.size(1), d = g.dim();
  const Kernels<T> kg(g), kf(f);
  const T* yd = y.data_ptr<T>();
  for_each_network(g, B, [&](int64_t k) {
    Workspace<T>& ws = workspace<T>();
    {
      const Net<const T> gn = network<T, const T>(g.weights(), k);
      const Net<const T> fn = network<T, const T>(f.weights(), k);
      const Net<T> gr = network<T, T>(g.gradient_views(), k);
      const CMapMat<T> x(yd + k * B * d, B, d);
      kg.forward(gn, x, ws.g, /*need_d2=*/true);
      kg.backward_gradient(gn, ws.g);
      const CMapMat<T> t(ws.g.grad.data(), B, d);
      kf.forward(fn, t, ws.f, /*need_d2=*/false);
      kf.backward_gradient(fn, ws.f);
      loss[k] = static_cast<double>((ws.f.value.array() - (x.array() * t.array()).rowwise().sum()).mean());
      ws.v = (ws.f.grad - x) / static_cast<T>(B);
      kg.directional_backward(gn, gr, x, ws.g, ws.v, ws);
      if (penalty > 0) kg.add_penalty(gn, gr, penalty);
    }
  });
}

template <typename T>
void value_gradient_impl(const IcnnPotential& f, const at::Tensor& x, const at::Tensor& cot, double penalty,
                         at::Tensor& value) {
  const int64_t B = x.size(1), d = f.dim();
  const Kernels<T> kf(f);
  for_each_network(f, B, [&](int64_t k) {
    Workspace<T>& ws = workspace<T>();
    {
      const Net<const T> fn = network<T, const T>(f.weights(), k);
      const Net<T> gr = network<T, T>(f.gradient_views(), k);
      const CMapMat<T> xk(x.data_ptr<T>() + k * B * d, B, d);
      kf.forward(fn, xk, ws.f, /*need_d2=*/false);
      Eigen::Map<Vec<T>>(value.data_ptr<T>() + k * B, B) = ws.f.value;
      kf.value_backward(fn, gr, xk, ws.f, Eigen::Map<const Vec<T>>(cot.data_ptr<T>() + k * B, B), ws);
      if (penalty > 0) kf.add_penalty(fn, gr, penalty);
    }
  });
}

template <typename T>
void value_and_gradient_impl(const IcnnPotential& f, const at::Tensor& x, at::Tensor& value, at::Tensor& gradient) {
  const int64_t B = x.size(1), d = f.dim();
  const Kernels<T> kf(f);
  for_each_network(f, B, [&](int64_t k) {
    Workspace<T>& ws = workspace<T>();
    {
      const Net<const T> fn = network<T, const T>(f.weights(), k);
      const CMapMat<T> xk(x.data_ptr<T>() + k * B * d, B, d);
      kf.forward(fn, xk, ws.f, /*need_d2=*/false);
      kf.backward_gradient(fn, ws.f);
      Eigen::Map<Vec<T>>(value.data_ptr<T>() + k * B, B) = ws.f.value;
      MapMat<T>(gradient.data_ptr<T>() + k * B * d, B, d) = ws.f.grad;
    }
  });
}

}  // namespace

bool supported(const IcnnPotential& net) {
  const at::Tensor& w = net.weights().w;
  return w.device().is_cpu() && (w.scalar_type() == at::kFloat || w.scalar_type() == at::kDouble);
}

void g_step(const IcnnPotential& g, const IcnnPotential& f, const at::Tensor& y, double penalty, double* loss_g) {
  const at::Tensor yc = y.contiguous();
  if (yc.scalar_type() == at::kDouble) {
    g_step_impl<double>(g, f, yc, penalty, loss_g);
  } else {
    g_step_impl<float>(g, f, yc, penalty, loss_g);
  }
}

void value_parameter_gradient(const IcnnPotential& f, const at::Tensor& x, const at::Tensor& cot, double penalty,
                              at::Tensor& value) {
  const at::Tensor xc = x.contiguous(), cc = cot.contiguous();
  value = at::empty({f.count(), x.size(1)}, x.options());
  if (xc.scalar_type() == at::kDouble) {
    value_gradient_impl<double>(f, xc, cc, penalty, value);
  } else {
    value_gradient_impl<float>(f, xc, cc, penalty, value);
  }
}

void add_convexity_penalty(const IcnnPotential& net, double lambda) {
  auto run = [&](auto zero) {
    using T = decltype(zero);
    const Kernels<T> kernels(net);
    for (int64_t k = 0; k < net.count(); ++k) {
      kernels.add_penalty(network<T, const T>(net.weights(), k), network<T, T>(net.gradient_views(), k), lambda);
    }
  };
  net.weights().w.scalar_type() == at::kDouble ? run(double{}) : run(float{});
}

void value_and_gradient(const IcnnPotential& f, const at::Tensor& x, at::Tensor& value, at::Tensor& gradient) {
  const at::Tensor xc = x.contiguous();
  value = at::empty({f.count(), x.size(1)}, x.options());
  gradient = at::empty_like(xc);
  if (xc.scalar_type() == at::kDouble) {
    value_and_gradient_impl<double>(f, xc, value, gradient);
  } else {
    value_and_gradient_impl<float>(f, xc, value, gradient);
  }
}

}  // namespace wbary::nn::cpu
