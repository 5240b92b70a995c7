#include "wbary/ot/fixed_support_barycenter.h"

#include <cmath>

#include "wbary/error.h"

namespace wbary::ot {

FixedSupportBarycenter::FixedSupportBarycenter(FixedSupportConfig config) : config_(config) {
  if (!(config.epsilon > 0) || !std::isfinite(config.epsilon)) {
    throw InvalidArgument("--eps: got " + std::to_string(config.epsilon) + ", expected a finite value > 0");
  }
  if (config.max_iterations < 1) throw InvalidArgument("--iterations: expected >= 1");
}

BregmanResult FixedSupportBarycenter::solve(const std::vector<at::Tensor>& histograms, const at::Tensor& cost,
                                            std::vector<double> weights) const {
  if (histograms.empty()) throw InvalidArgument("fixed-support barycenter: no input histograms");
  const at::Tensor M = cost.to(at::kDouble);
  const int64_t n = M.size(0);
  if (M.dim() != 2 || M.size(1) != n || n == 0 || !at::isfinite(M).all().item<bool>()) {
    throw InvalidArgument("fixed-support barycenter: cost must be a finite [n, n] matrix");
  }
  std::vector<at::Tensor> hs;
  for (size_t k = 0; k < histograms.size(); ++k) {
    const at::Tensor h = histograms[k].to(at::kDouble).reshape({-1});
    if (h.numel() != n) {
      throw InvalidArgument("fixed-support barycenter: histogram " + std::to_string(k + 1) + " has " +
                            std::to_string(h.numel()) + " bins, expected " + std::to_string(n) + " (the cost's size)");
    }
    if (!at::isfinite(h).all().item<bool>() || (h < 0).any().item<bool>() || !(h.sum().item<double>() > 0)) {
      throw InvalidArgument("fixed-support barycenter: histogram " + std::to_string(k + 1) +
                            " must be finite, >= 0 and have positive mass");
    }
    hs.push_back(h / h.sum());
  }
  weights = normalised_weights(std::move(weights), hs.size(), "--weights");
  const at::Tensor Mr = (-M / config_.epsilon).unsqueeze(0);  // [1, n, n]
  // log K v: lse_j(Mr[i, j] + G[k, j]);  log K^T u: lse_i(Mr[i, j] + f[k, i]).
  const LogKernel log_k = [&](const at::Tensor& G) { return at::logsumexp(Mr + G.unsqueeze(1), {2}); };
  const LogKernel log_kt = [&](const at::Tensor& f) { return at::logsumexp(Mr + f.unsqueeze(2), {1}); };
  const at::Tensor logA = at::log(at::stack(hs) + 1e-15);  // POT's stabiliser here
  return log_bregman_barycenter(logA, weights, log_k, log_kt, {config_.max_iterations, config_.tolerance},
                                /*check_phase=*/1);
}

}  // namespace wbary::ot
