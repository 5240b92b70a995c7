#include "wbary/data/gaussian.h"

#include <sstream>

#include "wbary/error.h"

namespace wbary::data {

GaussianSampler::GaussianSampler(at::Tensor mean, at::Tensor covariance, std::string description)
    : mean_(mean.to(at::kDouble).contiguous()),
      cov_(covariance.to(at::kDouble).contiguous()),
      description_(std::move(description)) {
  const int64_t d = mean_.numel();
  if (mean_.dim() != 1 || d == 0) throw InvalidArgument("Gaussian: mean must be a non-empty vector");
  if (cov_.dim() != 2 || cov_.size(0) != d || cov_.size(1) != d) {
    std::ostringstream msg;
    msg << "Gaussian: covariance has shape " << cov_.sizes() << ", expected [" << d << ", " << d
        << "] to match the mean";
    throw InvalidArgument(msg.str());
  }
  if (!at::isfinite(cov_).all().item<bool>() || !at::isfinite(mean_).all().item<bool>()) {
    throw InvalidArgument("Gaussian: mean or covariance contains NaN/Inf");
  }
  if (!at::allclose(cov_, cov_.t(), 1e-8, 1e-10)) {
    throw InvalidArgument("Gaussian: covariance is not symmetric");
  }
  auto [chol, info] = at::linalg_cholesky_ex(cov_);
  if (info.item<int64_t>() != 0) {
    throw InvalidArgument("Gaussian: covariance is not positive definite");
  }
  chol_ = chol;
  if (description_.empty()) description_ = "gaussian(dim=" + std::to_string(d) + ")";
}

GaussianSampler GaussianSampler::random(int64_t dim, uint64_t seed, double eig_min, double eig_max,
                                        double shift) {
  if (dim < 1) throw InvalidArgument("gaussian: dim=" + std::to_string(dim) + ", expected >= 1");
  if (!(eig_min > 0) || !(eig_max >= eig_min)) {
    throw InvalidArgument("gaussian: eigenvalue range [" + std::to_string(eig_min) + ", " +
                          std::to_string(eig_max) + "] must satisfy 0 < eig_min <= eig_max");
  }
  at::Generator gen = make_generator(derive_seed(seed, 0x6761757373ULL, 0));
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  // Haar-random eigenvectors: Q of a Gaussian matrix, signs fixed by R's diagonal.
  at::Tensor a = at::randn({dim, dim}, gen, opts);
  auto [q, r] = at::linalg_qr(a);
  q = q * at::sign(at::diagonal(r)).unsqueeze(0);
  at::Tensor eig = eig_min + (eig_max - eig_min) * at::rand({dim}, gen, opts);
  at::Tensor cov = at::matmul(q * eig.unsqueeze(0), q.t());
  cov = 0.5 * (cov + cov.t());
  std::ostringstream desc;
  desc << "gaussian(dim=" << dim << ", seed=" << seed << ")";
  return GaussianSampler(at::full({dim}, shift, opts), cov, desc.str());
}

at::Tensor GaussianSampler::sample(int64_t n, at::Generator& gen) const {
  at::Tensor z = at::randn({n, dim()}, gen, at::TensorOptions().dtype(at::kDouble));
  return at::addmm(mean_.unsqueeze(0), z, chol_.t());
}

}  // namespace wbary::data
