#include "wbary/grid/convolutional_barycenter.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>
#include <utility>

#include "wbary/error.h"
#include "wbary/grid/linear_domain_barycenter.h"
#include "wbary/ot/bregman_barycenter.h"

namespace wbary::grid {
namespace {

constexpr double kAnnealFrom = 8;  // px: the widest blur of eps-scaling

// log K for an n-point axis on linspace(0, 1, n): -(t_i - t_j)^2 / eps.
at::Tensor log_kernel(int64_t n, double eps) {
  const at::Tensor t = at::linspace(0, 1, n, at::TensorOptions().dtype(at::kDouble));
  return -(t.unsqueeze(1) - t.unsqueeze(0)).square() / eps;
}

// out[i, r] = logsumexp_j(M[i, j] + X[j, r]) for X [n, R].
at::Tensor log_matmul(const at::Tensor& M, const at::Tensor& K, const at::Tensor& X) {
  // Shift each column by its maximum, multiply in the linear domain.
  const at::Tensor alpha = std::get<0>(X.max(0, /*keepdim=*/true));  // [1, R]
  const at::Tensor shift = at::where(at::isfinite(alpha), alpha, at::zeros_like(alpha));
  const at::Tensor S = at::mm(K, at::exp(X - shift));
  at::Tensor out = at::log(S) + shift;
  // Where the product underflowed (or lost all relative precision), redo the
  // column block by block: within a block of kBlock pixels both the kernel
  // and the data get their own shifts, so far-away mass no longer underflows
  // (a 2-pixel kernel on 256^2 otherwise sent most entries to the slow path).
  at::Tensor bad = (S < 1e-280).logical_and(at::isfinite(alpha).expand_as(S));
  if (!bad.any().item<bool>()) return out;
  const at::Tensor cols = bad.any(0).nonzero().squeeze(1);
  const at::Tensor Xc = X.index_select(1, cols);
  constexpr int64_t kBlock = 16;
  const int64_t n = M.size(0);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  at::Tensor value = at::full({n, cols.size(0)}, neg_inf, X.options());
  at::Tensor risk = value.clone();  // bound on the log-mass of blocks that underflowed even so
  for (int64_t s0 = 0; s0 < n; s0 += kBlock) {
    const int64_t s1 = std::min(n, s0 + kBlock);
    const at::Tensor Mb = M.slice(1, s0, s1), Xb = Xc.slice(0, s0, s1);
    const at::Tensor gamma = std::get<0>(Mb.max(1, /*keepdim=*/true));  // [n, 1]
    const at::Tensor a_raw = std::get<0>(Xb.max(0, /*keepdim=*/true));  // [1, C]
    const at::Tensor a = at::where(at::isfinite(a_raw), a_raw, at::zeros_like(a_raw));
    const at::Tensor Sb = at::mm(at::exp(Mb - gamma), at::exp(Xb - a));
    const at::Tensor ok = Sb >= 1e-280;
    value = at::logaddexp(value, at::where(ok, at::log(Sb) + gamma + a, at::full_like(Sb, neg_inf)));
    // An untrusted block held at most 1e-280 + kBlock * 2.3e-308 < 1e-279 after its shifts.
    const at::Tensor bound = at::where(at::isfinite(a_raw).expand_as(Sb), gamma + a - 642.4, at::full_like(Sb, neg_inf));
    risk = at::maximum(risk, at::where(ok, at::full_like(Sb, neg_inf), bound));
  }
  // Exact (to round-off) where the untrusted blocks weigh < e^-40 of the total.
  const at::Tensor safe = value >= risk + 40;
  at::Tensor out_cols = out.index_select(1, cols);
  const at::Tensor bad_cols = bad.index_select(1, cols);
  out_cols = at::where(bad_cols.logical_and(safe), value, out_cols);
  out.index_copy_(1, cols, out_cols);
  bad.index_copy_(1, cols, bad_cols.logical_and(safe.logical_not()));
  // What is left is computed entry by entry by an exact log-sum-exp.
  if (bad.any().item<bool>()) {
    const at::Tensor idx = at::nonzero(bad);  // [count, 2]: (i, r)
    const int64_t chunk = std::max<int64_t>(1, (1 << 22) / std::max<int64_t>(1, M.size(1)));
    const at::Tensor Xt = X.t();
    for (int64_t s = 0; s < idx.size(0); s += chunk) {
      const at::Tensor part = idx.narrow(0, s, std::min(chunk, idx.size(0) - s));
      const at::Tensor rows = part.select(1, 0), cols2 = part.select(1, 1);
      const at::Tensor exact = at::logsumexp(M.index_select(0, rows) + Xt.index_select(0, cols2), {1});
      out.index_put_({rows, cols2}, exact);
    }
  }
  return out;
}

}  // namespace

ConvolutionalBarycenter::ConvolutionalBarycenter(ConvolutionalBarycenterConfig config) : config_(config) {
  if (!(config.epsilon >= 0) || !std::isfinite(config.epsilon)) {
    throw InvalidArgument("--eps: got " + std::to_string(config.epsilon) + ", expected a finite value > 0");
  }
  if (config.epsilon == 0 && (!(config.blur_pixels > 0) || !std::isfinite(config.blur_pixels))) {
    throw InvalidArgument("--blur-px: got " + std::to_string(config.blur_pixels) + ", expected a finite value > 0");
  }
  if (config.max_iterations < 1) throw InvalidArgument("--iterations: expected >= 1");
  if (!(config.tolerance >= 0)) throw InvalidArgument("--tolerance: expected >= 0");
  if (!(config.max_sharpening >= 1)) throw InvalidArgument("--max-sharpening: expected >= 1");
}

double ConvolutionalBarycenter::axis_epsilon(int64_t n) const {
  if (config_.epsilon > 0) return config_.epsilon;
  const double spacing = 1.0 / static_cast<double>(std::max<int64_t>(1, n - 1));  // of linspace(0, 1, n)
  return 2 * std::pow(config_.blur_pixels * spacing, 2);
}

at::Tensor ConvolutionalBarycenter::log_convolve(const at::Tensor& log_images) const {
  at::Tensor L = log_images;
  for (int64_t axis = 1; axis < L.dim(); ++axis) {
    const int64_t n = L.size(axis);
    const at::Tensor M = log_kernel(n, axis_epsilon(n));
    const at::Tensor K = at::exp(M);
    at::Tensor moved = L.movedim(axis, 0);
    const auto shape = moved.sizes().vec();
    at::Tensor out = log_matmul(M, K, moved.reshape({n, -1})).reshape(shape);
    L = out.movedim(0, axis);
  }
  return L.contiguous();
}

double entropy_of_log(const at::Tensor& log_mu) {
  const at::Tensor mu = at::exp(log_mu);
  // 0 log 0 = 0: entries that underflow (or are -inf) contribute nothing.
  return -at::where(mu > 0, mu * log_mu, at::zeros_like(mu)).sum().item<double>();
}

SharpenedDensity sharpen_log_density(const at::Tensor& log_mu, double limit, double max_beta) {
  const at::Tensor L = log_mu.flatten();
  const at::Tensor log_mass = at::logsumexp(L, 0);
  auto power = [&](double beta) { return at::log_softmax(beta * L, 0); };  // log(mu^beta / sum mu^beta)
  // The entropy of the normalised power falls monotonically in beta (its
  // derivative is -beta Var_p(log mu)), so bisection finds the root.
  auto above = [&](double beta) { return entropy_of_log(power(beta)) > limit; };
  SharpenedDensity out{log_mu, 1.0, true};
  if (!above(1)) return out;
  double lo = 1, hi = max_beta;
  if (above(hi)) {
    out.reached = false;
  } else {
    while (hi - lo > 1e-4) {  // Solomon's fzero: TolX 1e-4
      const double mid = 0.5 * (lo + hi);
      (above(mid) ? lo : hi) = mid;
    }
  }
  out.beta = hi;
  out.log_mu = (power(hi) + log_mass).view(log_mu.sizes());
  return out;
}

ot::BregmanResult ConvolutionalBarycenter::iterate(const at::Tensor& densities, const at::Tensor& logA,
                                                   const std::vector<double>& weights,
                                                   const ot::LogBarycenterMap& project, const at::Tensor& start,
                                                   int64_t* linear) const {
  constexpr int kCheckPhase = 9;  // POT's convolutional_barycenter2d: error at iteration % 10 == 9
  ot::BregmanConfig bregman{config_.max_iterations, config_.tolerance};
  const auto log_k = [this](const at::Tensor& t) { return log_convolve(t); };  // symmetric kernel: K^T = K
  if (config_.log_domain || project || densities.dim() != 3) {
    return ot::log_bregman_barycenter(logA, weights, log_k, log_k, bregman, kCheckPhase, project, start);
  }
  const int64_t n1 = densities.size(1), n2 = densities.size(2);
  const LinearDomainOutcome head =
      linear_domain_barycenter(densities, weights, at::exp(log_kernel(n1, axis_epsilon(n1))),
                               at::exp(log_kernel(n2, axis_epsilon(n2))), bregman, kCheckPhase, start);
  *linear += head.result.iterations;
  if (!head.underflowed) return head.result;
  // The rest in the log domain from the last good scalings, its error
  // checks on the same iterations as if it had run from the start.
  const int64_t done = head.result.iterations;
  bregman.max_iterations = std::max<int64_t>(1, bregman.max_iterations - done);
  const int phase = static_cast<int>(((kCheckPhase - done) % 10 + 10) % 10);
  ot::BregmanResult tail =
      ot::log_bregman_barycenter(logA, weights, log_k, log_k, bregman, phase, {}, head.result.log_scalings);
  tail.iterations += done;
  tail.error_trace.insert(tail.error_trace.begin(), head.result.error_trace.begin(), head.result.error_trace.end());
  return tail;
}

GridBarycenterResult ConvolutionalBarycenter::solve(const std::vector<at::Tensor>& densities,
                                                    std::vector<double> weights) const {
  if (densities.size() < 1) throw InvalidArgument("grid barycenter: no input densities");
  const auto shape = densities[0].sizes().vec();
  if (shape.size() != 2 && shape.size() != 3) {
    throw InvalidArgument("grid barycenter: inputs must be 2-D images or 3-D volumes, got " +
                          std::to_string(shape.size()) + " dimensions");
  }
  std::vector<at::Tensor> normalised;
  for (size_t k = 0; k < densities.size(); ++k) {
    const at::Tensor a = densities[k].to(at::kDouble);
    if (a.sizes().vec() != shape) {
      std::ostringstream msg;
      msg << "grid barycenter: input " << k + 1 << " has shape " << a.sizes() << ", expected " << densities[0].sizes()
          << " like input 1";
      throw InvalidArgument(msg.str());
    }
    if (!at::isfinite(a).all().item<bool>() || (a < 0).any().item<bool>()) {
      throw InvalidArgument("grid barycenter: input " + std::to_string(k + 1) +
                            " has negative or non-finite values, expected a density >= 0");
    }
    const double mass = a.sum().item<double>();
    if (!(mass > 0)) throw InvalidArgument("grid barycenter: input " + std::to_string(k + 1) + " has no mass");
    normalised.push_back(a / mass);
  }
  weights = ot::normalised_weights(std::move(weights), densities.size(), "--weights");

  // POT's _convolutional_barycenter2d_log (error checked at iteration % 10 == 9).
  const at::Tensor stacked = at::stack(normalised);                     // [count, *grid]
  const at::Tensor logA = at::log(stacked + config_.stabiliser);
  int64_t linear_iterations = 0;
  ot::LogBarycenterMap sharpen;
  SharpeningReport sharpening;
  if (config_.sharpen) {
    sharpening.entropy_limit = -std::numeric_limits<double>::infinity();
    for (const auto& a : normalised) sharpening.entropy_limit = std::max(sharpening.entropy_limit, entropy_of_log(at::log(a)));
    sharpen = [this, &sharpening](const at::Tensor& log_bar) {
      SharpenedDensity s = sharpen_log_density(log_bar, sharpening.entropy_limit, config_.max_sharpening);
      sharpening.beta = s.beta;
      sharpening.reached = s.reached;
      return s.log_mu;
    };
  }
  // Blur mode: eps-scaling (as in Schmitzer 2019's stabilised scaling). A
  // small blur needs many iterations from a cold start (2 px on 128^2: 9.3 s
  // cold, 2.8 s annealed), so the problem is first solved with the blur
  // doubled (and doubled again, up to kAnnealFrom px), each solution's dual
  // potentials eps log v_k carried to the next: log v scales by eps_old /
  // eps_new. The fixed point at the target blur is unique, so only the path
  // changes.
  at::Tensor start;
  int64_t annealing_iterations = 0;
  if (config_.epsilon == 0 && config_.anneal) {
    std::vector<double> blurs;
    for (double b = 2 * config_.blur_pixels; b <= kAnnealFrom; b *= 2) blurs.insert(blurs.begin(), b);
    double previous_blur = 0;
    for (double blur : blurs) {
      ConvolutionalBarycenterConfig stage = config_;
      stage.blur_pixels = blur;
      const ConvolutionalBarycenter coarse(stage);
      if (start.defined()) start = start * std::pow(previous_blur / blur, 2);
      const ot::BregmanResult r = coarse.iterate(stacked, logA, weights, {}, start, &linear_iterations);
      start = r.log_scalings;
      annealing_iterations += r.iterations;
      previous_blur = blur;
    }
    if (start.defined()) start = start * std::pow(previous_blur / config_.blur_pixels, 2);
  }
  ot::BregmanResult b = iterate(stacked, logA, weights, sharpen, start, &linear_iterations);
  b.iterations += annealing_iterations;
  GridBarycenterResult result;
  result.linear_domain_iterations = linear_iterations;
  // A sharpened barycenter keeps the iterate's mass, which need not be 1.
  result.barycenter = config_.sharpen ? b.barycenter / b.barycenter.sum() : b.barycenter;
  if (config_.sharpen) {
    sharpening.entropy = entropy_of_log(at::log(result.barycenter));
    result.sharpening = sharpening;
  }
  for (int64_t k = 0; k < b.log_scalings.size(0); ++k) result.log_scalings.push_back(b.log_scalings[k]);
  result.convergence = {b.converged, b.iterations, b.error_trace};
  return result;
}

}  // namespace wbary::grid
