#include "wbary/barycenter/gaussian_barycenter.h"

#include <cmath>
#include <sstream>

#include "wbary/error.h"
#include "wbary/metrics/gaussian.h"

namespace wbary::barycenter {

void validate_weights(const std::vector<double>& weights, size_t expected_count, const std::string& what) {
  if (weights.size() != expected_count) {
    throw InvalidArgument(what + ": got " + std::to_string(weights.size()) + " weights, expected " +
                          std::to_string(expected_count) + " (one per marginal)");
  }
  double sum = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0) {
      std::ostringstream msg;
      msg << what << ": weight " << i + 1 << " is " << weights[i] << ", expected a finite value >= 0";
      throw InvalidArgument(msg.str());
    }
    sum += weights[i];
  }
  if (std::abs(sum - 1.0) > 1e-6) {
    std::ostringstream msg;
    msg.precision(10);
    msg << what << ": weights sum to " << sum << ", expected 1";
    throw InvalidArgument(msg.str());
  }
}

GaussianBarycenter::GaussianBarycenter(GaussianBarycenterConfig config) : config_(config) {
  if (config.max_iterations < 1) throw InvalidArgument("Gaussian barycenter: max_iterations must be >= 1");
  if (!(config.tolerance > 0)) throw InvalidArgument("Gaussian barycenter: tolerance must be > 0");
}

GaussianBarycenterResult GaussianBarycenter::solve(const std::vector<data::GaussianMoments>& marginals,
                                                   const std::vector<double>& weights) const {
  if (marginals.empty()) throw InvalidArgument("Gaussian barycenter: no marginals");
  validate_weights(weights, marginals.size(), "Gaussian barycenter weights");
  const int64_t d = marginals[0].mean.numel();
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor mean = at::zeros({d}, opts);
  for (size_t i = 0; i < marginals.size(); ++i) {
    if (marginals[i].mean.numel() != d || marginals[i].covariance.size(0) != d) {
      throw InvalidArgument("Gaussian barycenter: marginal " + std::to_string(i + 1) + " has dimension " +
                            std::to_string(marginals[i].mean.numel()) + ", expected " + std::to_string(d));
    }
    mean = mean + weights[i] * marginals[i].mean.to(at::kDouble);
  }
  GaussianBarycenterResult result;
  at::Tensor s = at::eye(d, opts);
  for (int64_t k = 0; k < config_.max_iterations; ++k) {
    auto [evals, evecs] = at::linalg_eigh(s);
    at::Tensor root = at::matmul(evecs * at::sqrt(evals).unsqueeze(0), evecs.t());
    at::Tensor root_inv = at::matmul(evecs * at::rsqrt(evals).unsqueeze(0), evecs.t());
    at::Tensor t = at::zeros({d, d}, opts);
    for (size_t i = 0; i < marginals.size(); ++i) {
      if (weights[i] == 0) continue;
      t = t + weights[i] * metrics::sqrtm_psd(at::matmul(at::matmul(root, marginals[i].covariance.to(at::kDouble)), root));
    }
    at::Tensor next = at::matmul(at::matmul(root_inv, at::matmul(t, t)), root_inv);
    next = 0.5 * (next + next.t());
    const double err = (next - s).pow(2).sum().item<double>();
    s = next;
    result.error_trace.push_back(err);
    result.iterations = k + 1;
    if (err <= config_.tolerance) {
      result.converged = true;
      break;
    }
  }
  result.barycenter = {mean, s};
  return result;
}

}  // namespace wbary::barycenter
