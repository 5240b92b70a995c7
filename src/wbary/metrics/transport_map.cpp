#include "wbary/metrics/transport_map.h"

#include "wbary/error.h"
#include "wbary/metrics/gaussian.h"

namespace wbary::metrics {
namespace {

void check_same(const at::Tensor& a, const at::Tensor& b, const char* what) {
  if (a.dim() != 2 || !a.sizes().equals(b.sizes()) || a.size(0) < 2) {
    throw InvalidArgument(std::string(what) + ": expected two [n, d] arrays of the same shape with n >= 2");
  }
}

}  // namespace

double total_variance(const at::Tensor& samples) {
  if (samples.dim() != 2 || samples.size(0) < 2) throw InvalidArgument("total_variance: need [n, d] with n >= 2");
  return samples.to(at::kDouble).var(0, /*unbiased=*/true).sum().item<double>();
}

double l2_uvp(const at::Tensor& predicted, const at::Tensor& truth, double target_variance) {
  check_same(predicted, truth, "l2_uvp");
  if (!(target_variance > 0)) throw InvalidArgument("l2_uvp: target variance must be > 0");
  const at::Tensor diff = predicted.to(at::kDouble) - truth.to(at::kDouble);
  return 100.0 * (diff * diff).sum(1).mean().item<double>() / target_variance;
}

double displacement_cosine(const at::Tensor& x, const at::Tensor& predicted, const at::Tensor& truth) {
  check_same(predicted, truth, "displacement_cosine");
  check_same(x, truth, "displacement_cosine");
  const at::Tensor xd = x.to(at::kDouble);
  const at::Tensor u = truth.to(at::kDouble) - xd, v = predicted.to(at::kDouble) - xd;
  const double uv = (u * v).sum(1).mean().item<double>();
  const double uu = (u * u).sum(1).mean().item<double>(), vv = (v * v).sum(1).mean().item<double>();
  return uu > 0 && vv > 0 ? uv / std::sqrt(uu * vv) : 0.0;
}

LinearMap fit_linear_map(const at::Tensor& source, const at::Tensor& target) {
  const data::GaussianMoments p = empirical_moments(source), q = empirical_moments(target);
  LinearMap map;
  map.matrix = gaussian_map_matrix(p.covariance, q.covariance);
  map.matrix = 0.5 * (map.matrix + map.matrix.t());  // symmetrised, as the benchmark does
  map.shift = q.mean - at::mv(map.matrix, p.mean);
  return map;
}

}  // namespace wbary::metrics
