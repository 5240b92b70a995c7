#include "wbary/ot/sinkhorn.h"

#include <cmath>

#include "wbary/error.h"

namespace wbary::ot {
namespace {

at::Tensor normalised(const at::Tensor& w, int64_t n, const char* name) {
  const at::Tensor d = w.to(at::kDouble).reshape({-1});
  if (d.numel() != n) {
    throw InvalidArgument(std::string(name) + ": " + std::to_string(d.numel()) + " weights, expected " +
                          std::to_string(n));
  }
  if (!at::isfinite(d).all().item<bool>() || (d < 0).any().item<bool>()) {
    throw InvalidArgument(std::string(name) + ": weights must be finite and >= 0");
  }
  const double total = d.sum().item<double>();
  if (!(total > 0)) throw InvalidArgument(std::string(name) + ": weights sum to 0");
  return d / total;
}

}  // namespace

Sinkhorn::Sinkhorn(SinkhornConfig config) : config_(config) {
  if (!(config.epsilon > 0) || !std::isfinite(config.epsilon)) {
    throw InvalidArgument("Sinkhorn epsilon: got " + std::to_string(config.epsilon) + ", expected > 0");
  }
  if (config.max_iterations < 1) throw InvalidArgument("Sinkhorn: max_iterations must be >= 1");
}

SinkhornResult Sinkhorn::solve(const at::Tensor& a_in, const at::Tensor& b_in, const at::Tensor& cost_in) const {
  const at::Tensor C = cost_in.to(at::kDouble);
  if (C.dim() != 2 || C.size(0) == 0 || C.size(1) == 0) throw InvalidArgument("Sinkhorn: empty measure");
  if (!at::isfinite(C).all().item<bool>()) throw InvalidArgument("Sinkhorn: cost has NaN/Inf");
  const at::Tensor a = normalised(a_in, C.size(0), "source weights");
  const at::Tensor b = normalised(b_in, C.size(1), "target weights");
  const at::Tensor Mr = -C / config_.epsilon;
  const at::Tensor loga = at::log(a), logb = at::log(b);
  SinkhornResult r;
  at::Tensor u = at::zeros_like(a), v = at::zeros_like(b);
  for (int64_t it = 0; it < config_.max_iterations; ++it) {
    v = logb - at::logsumexp(Mr + u.unsqueeze(1), {0});
    u = loga - at::logsumexp(Mr + v.unsqueeze(0), {1});
    r.iterations = it + 1;
    if (it % 10 == 0) {
      const double err = (at::exp(Mr + u.unsqueeze(1) + v.unsqueeze(0)).sum(0) - b).norm().item<double>();
      r.error_trace.push_back(err);
      if (!std::isfinite(err)) throw InvalidArgument("Sinkhorn diverged (non-finite marginal error); raise epsilon");
      if (err < config_.tolerance) {
        r.converged = true;
        break;
      }
    }
  }
  r.log_u = u;
  r.log_v = v;
  r.plan = at::exp(Mr + u.unsqueeze(1) + v.unsqueeze(0));
  r.cost = (r.plan * C).sum().item<double>();
  return r;
}

}  // namespace wbary::ot
