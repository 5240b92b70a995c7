#include "wbary/grid/linear_domain_barycenter.h"

#include <Eigen/Core>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "wbary/error.h"

namespace wbary::grid {
namespace {

using Array = Eigen::Array<double, Eigen::Dynamic, 1>;
using ArrayMap = Eigen::Map<Array>;
using ConstArrayMap = Eigen::Map<const Array>;

// Terms lost to underflow may weigh at most this share of an entry: below
// double round-off, so the iterates are those of the log domain.
constexpr double kLostShare = 1e-15;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Scalings kept above this stay normal doubles with a margin: full precision.
constexpr double kNormal = 1e-300;

// The restriction of the Gibbs operator to one input's support.
class SupportOperator {
 public:
  SupportOperator(const at::Tensor& a, const at::Tensor& k1, const at::Tensor& k2)
      : n1_(a.size(0)), n2_(a.size(1)) {
    const at::Tensor rows = (a > 0).any(1).nonzero().squeeze(1), cols = (a > 0).any(0).nonzero().squeeze(1);
    k1r_ = k1.index_select(1, rows).contiguous();  // K1[:, R]  [n1, r]
    k2c_ = k2.index_select(1, cols).contiguous();  // K2[:, C]  [n2, c]
    a_rc_ = a.index_select(0, rows).index_select(1, cols).contiguous();
    kv_ = at::empty_like(a_rc_);
    u_ = at::empty_like(a_rc_);
    const double r = static_cast<double>(rows.size(0)), c = static_cast<double>(cols.size(0));
    const double n1 = static_cast<double>(n1_), n2 = static_cast<double>(n2_);
    // Each product has two orders (which axis is contracted first), with
    // these multiply-add counts; the cheaper one is used.
    full_rows_last_ = r * n2 * (c + n1) <= n1 * c * (r + n2);
    restricted_rows_last_ = n1 * c * (n2 + r) <= r * n2 * (n1 + c);
  }

  // The bound on what underflow can take from an entry of K x (x >= 0, its
  // largest entry x_max): each lost product is below DBL_MIN times x_max, at
  // most n1 n2 of them in the first pass and as many after the second.
  double lost_bound(double x_max) const {
    return 2 * static_cast<double>(n1_ * n2_) * std::numeric_limits<double>::min() * x_max;
  }

  // u = a / (K v) on the support, for v [n1, n2] with largest entry v_max;
  // false if underflow or overflow touched an entry where a has mass.
  bool scale(const at::Tensor& v, double v_max) {
    if (!std::isfinite(v_max)) return false;
    if (restricted_rows_last_) {
      at::mm_out(t_v_, v, k2c_);        // [n1, c]
      at::mm_out(kv_, k1r_.t(), t_v_);  // [r, c]
    } else {
      at::mm_out(t_v_, k1r_.t(), v);    // [r, n2]
      at::mm_out(kv_, t_v_, k2c_);      // [r, c]
    }
    const ConstArrayMap a(a_rc_.data_ptr<double>(), a_rc_.numel()), kv(kv_.data_ptr<double>(), kv_.numel());
    ArrayMap u(u_.data_ptr<double>(), u_.numel());
    const double kv_min = (a > 0).select(kv, kInf).minCoeff();
    if (!(lost_bound(v_max) <= kLostShare * kv_min) || !std::isfinite(kv.maxCoeff())) return false;
    u = (a > 0).select(a / kv, 0.0);
    u_max_ = u.maxCoeff();
    return std::isfinite(u_max_);
  }

  // K^T u on the whole grid (K symmetric) into out [n1, n2].
  void spread(at::Tensor out) {
    if (full_rows_last_) {
      at::mm_out(t_u_, u_, k2c_.t());  // [r, n2]
      at::mm_out(out, k1r_, t_u_);     // [n1, n2]
    } else {
      at::mm_out(t_u_, k1r_, u_);      // [n1, c]
      at::mm_out(out, t_u_, k2c_.t()); // [n1, n2]
    }
  }

  // Whether K^T u with these extreme entries is exact to round-off.
  bool spread_trusted(double out_min, double out_max) const {
    return std::isfinite(out_max) && lost_bound(u_max_) <= kLostShare * out_min;
  }

 private:
  int64_t n1_, n2_;
  at::Tensor k1r_, k2c_, a_rc_, kv_, u_;
  at::Tensor t_v_ = at::empty({0}, at::kDouble), t_u_ = at::empty({0}, at::kDouble);
  bool full_rows_last_ = true, restricted_rows_last_ = true;
  double u_max_ = 0;
};

// What one pass over the pixels found, per input.
struct PixelPass {
  std::vector<double> ku_min, ku_max, v_min, v_max;
  double error = 0;  // sum over pixels of std_k(v_k K^T u_k), when asked
};

// One fused pass over the pixels, split over threads: bar = prod_k KU_k^w_k,
// v_next_k = bar / KU_k, the extremes the checks need and, when asked, POT's
// error sum_p std_k(v_k KU_k) (np.std, ddof = 0) with the old v_k.
PixelPass pixel_pass(const std::vector<double>& w, const at::Tensor& KU, const at::Tensor& v, at::Tensor& v_next,
                     at::Tensor& bar, bool with_error) {
  const int64_t count = KU.size(0), pixels = bar.numel();
  const double* ku = KU.data_ptr<double>();
  const double* v_old = v.data_ptr<double>();
  double* vn = v_next.data_ptr<double>();
  double* b = bar.data_ptr<double>();
  PixelPass total{std::vector<double>(count, kInf), std::vector<double>(count, -kInf),
                  std::vector<double>(count, kInf), std::vector<double>(count, -kInf)};
  std::mutex merge;
  at::parallel_for(0, pixels, 8192, [&](int64_t begin, int64_t end) {
    const int64_t len = end - begin;
    PixelPass part{std::vector<double>(count), std::vector<double>(count), std::vector<double>(count),
                   std::vector<double>(count)};
    ArrayMap bar_chunk(b + begin, len);
    bar_chunk.setZero();
    for (int64_t k = 0; k < count; ++k) {
      const ConstArrayMap x(ku + k * pixels + begin, len);
      part.ku_min[k] = x.minCoeff();
      part.ku_max[k] = x.maxCoeff();
      bar_chunk += w[k] * x.log();
    }
    bar_chunk = bar_chunk.exp();
    if (with_error) {
      // Two passes: the spread is ~1e-7 of the values near convergence.
      const auto x = [&](int64_t k) {
        return ConstArrayMap(v_old + k * pixels + begin, len) * ConstArrayMap(ku + k * pixels + begin, len);
      };
      Array mean = Array::Zero(len), square = Array::Zero(len);
      for (int64_t k = 0; k < count; ++k) mean += x(k);
      mean /= static_cast<double>(count);
      for (int64_t k = 0; k < count; ++k) square += (x(k) - mean).square();
      part.error = (square / static_cast<double>(count)).sqrt().sum();
    }
    for (int64_t k = 0; k < count; ++k) {
      ArrayMap out(vn + k * pixels + begin, len);
      out = bar_chunk / ConstArrayMap(ku + k * pixels + begin, len);
      part.v_min[k] = out.minCoeff();
      part.v_max[k] = out.maxCoeff();
    }
    const std::lock_guard<std::mutex> lock(merge);
    for (int64_t k = 0; k < count; ++k) {
      total.ku_min[k] = std::min(total.ku_min[k], part.ku_min[k]);
      total.ku_max[k] = std::max(total.ku_max[k], part.ku_max[k]);
      total.v_min[k] = std::min(total.v_min[k], part.v_min[k]);
      total.v_max[k] = std::max(total.v_max[k], part.v_max[k]);
    }
    total.error += part.error;
  });
  return total;
}

}  // namespace

LinearDomainOutcome linear_domain_barycenter(const at::Tensor& densities, const std::vector<double>& weights,
                                             const at::Tensor& k1, const at::Tensor& k2, ot::BregmanConfig config,
                                             int check_phase, const at::Tensor& initial_log_scalings) {
  if (densities.dim() != 3 || densities.scalar_type() != at::kDouble || !densities.is_contiguous()) {
    throw InvalidArgument("linear_domain_barycenter: expected contiguous float64 densities [count, n1, n2]");
  }
  const int64_t count = densities.size(0);
  std::vector<SupportOperator> ops;
  for (int64_t k = 0; k < count; ++k) ops.emplace_back(densities[k], k1, k2);

  LinearDomainOutcome out;
  ot::BregmanResult& r = out.result;
  const at::Tensor start = initial_log_scalings.defined() ? initial_log_scalings : at::zeros_like(densities);
  at::Tensor v = at::exp(start).contiguous();
  std::vector<double> v_max(count);
  for (int64_t k = 0; k < count; ++k) v_max[k] = v[k].max().item<double>();
  at::Tensor v_next = at::empty_like(densities), KU = at::empty_like(densities);
  at::Tensor bar = at::empty_like(densities[0]);
  // Every v_k an iteration leaves is a normal positive double (the step
  // that would leave one out of range is refused), so log v_k is exact; before
  // the first step the caller's scalings are handed back as they came.
  const auto give_up = [&] {
    out.underflowed = true;
    r.log_scalings = r.iterations == 0 ? start.clone() : at::log(v);
    return out;
  };
  if (!(v >= kNormal).all().item<bool>()) return give_up();  // an overflow is caught by the first check
  for (int64_t it = 0; it < config.max_iterations; ++it) {
    for (int64_t k = 0; k < count; ++k) {
      if (!ops[k].scale(v[k], v_max[k])) return give_up();
      ops[k].spread(KU[k]);
    }
    const bool check = it % 10 == check_phase;
    const PixelPass pass = pixel_pass(weights, KU, v, v_next, bar, check);
    for (int64_t k = 0; k < count; ++k) {
      if (!ops[k].spread_trusted(pass.ku_min[k], pass.ku_max[k]) || !std::isfinite(pass.v_max[k]) ||
          !(pass.v_min[k] >= kNormal)) {
        return give_up();
      }
    }
    // v_k K^T u_k can overflow where the log domain's exp(log v_k + log K^T u_k) does not.
    if (check && !std::isfinite(pass.error)) return give_up();
    r.iterations = it + 1;
    if (check) {
      r.error_trace.push_back(pass.error);
      if (pass.error < config.tolerance) {
        r.converged = true;
        break;  // with the scalings that produced this barycenter, as the log domain
      }
    }
    std::swap(v, v_next);
    v_max = pass.v_max;
  }
  r.barycenter = bar;
  r.log_scalings = at::log(v);
  return out;
}

}  // namespace wbary::grid
