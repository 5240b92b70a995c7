#include "wbary/metrics/gaussian.h"

#include <sstream>

#include "wbary/error.h"

namespace wbary::metrics {

data::GaussianMoments empirical_moments(const at::Tensor& samples) {
  if (samples.dim() != 2 || samples.size(0) < 2) {
    std::ostringstream msg;
    msg << "empirical moments: got samples of shape " << samples.sizes() << ", expected [n >= 2, d]";
    throw InvalidArgument(msg.str());
  }
  at::Tensor x = samples.to(at::kDouble);
  at::Tensor mean = x.mean(0);
  at::Tensor centred = x - mean;
  at::Tensor cov = at::matmul(centred.t(), centred) / static_cast<double>(x.size(0) - 1);
  return {mean, cov};
}

at::Tensor sqrtm_psd(const at::Tensor& s) {
  auto [evals, evecs] = at::linalg_eigh(s.to(at::kDouble));
  return at::matmul(evecs * at::sqrt(at::clamp_min(evals, 0)).unsqueeze(0), evecs.t());
}

double bures_wasserstein_squared(const data::GaussianMoments& p, const data::GaussianMoments& q) {
  if (p.mean.numel() != q.mean.numel()) {
    throw InvalidArgument("Bures-Wasserstein: dimensions differ (" + std::to_string(p.mean.numel()) +
                          " vs " + std::to_string(q.mean.numel()) + ")");
  }
  at::Tensor rq = sqrtm_psd(q.covariance);
  at::Tensor cross = sqrtm_psd(at::matmul(at::matmul(rq, p.covariance.to(at::kDouble)), rq));
  const double mean_term = (p.mean.to(at::kDouble) - q.mean.to(at::kDouble)).pow(2).sum().item<double>();
  const double cov_term = (at::trace(p.covariance.to(at::kDouble)) + at::trace(q.covariance.to(at::kDouble)) -
                           2 * at::trace(cross)).item<double>();
  return mean_term + std::max(cov_term, 0.0);
}

double bw2_uvp(const data::GaussianMoments& estimate, const data::GaussianMoments& reference) {
  const double var = at::trace(reference.covariance.to(at::kDouble)).item<double>();
  return 100.0 * bures_wasserstein_squared(estimate, reference) / var;
}

double bw2_uvp(const at::Tensor& samples, const data::GaussianMoments& reference) {
  return bw2_uvp(empirical_moments(samples), reference);
}

at::Tensor gaussian_map_matrix(const at::Tensor& cov_from, const at::Tensor& cov_to) {
  at::Tensor r = sqrtm_psd(cov_from);
  auto [evals, evecs] = at::linalg_eigh(cov_from.to(at::kDouble));
  at::Tensor r_inv = at::matmul(evecs * at::rsqrt(evals).unsqueeze(0), evecs.t());
  at::Tensor mid = sqrtm_psd(at::matmul(at::matmul(r, cov_to.to(at::kDouble)), r));
  at::Tensor a = at::matmul(at::matmul(r_inv, mid), r_inv);
  return 0.5 * (a + a.t());
}

}  // namespace wbary::metrics
