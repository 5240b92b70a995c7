// Uses an installed wbary through its public headers only: an exact Gaussian
// barycenter and an exact W2, checked against closed forms, the version, and
// the shipped grid model found beside the installed library.
#include <cmath>
#include <cstdio>
#include <string>

#include <wbary/barycenter/gaussian_barycenter.h>
#include <wbary/grid/learned_barycenter.h>
#include <wbary/ot/exact_transport.h>
#include <wbary/version.h>

int main(int argc, char** argv) {
  int failures = 0;
  const auto check = [&](bool ok, const std::string& what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
    failures += ok ? 0 : 1;
  };
  const auto opts = at::TensorOptions().dtype(at::kDouble);

  // Commuting covariances: the barycenter's is (sum_i w_i S_i^{1/2})^2 and its
  // mean the weighted mean (Agueh & Carlier 2011).
  wbary::data::GaussianMoments a{at::tensor({1.0, -2.0}, opts), at::diag(at::tensor({4.0, 1.0}, opts))};
  wbary::data::GaussianMoments b{at::tensor({3.0, 0.0}, opts), at::diag(at::tensor({1.0, 9.0}, opts))};
  const auto r = wbary::barycenter::GaussianBarycenter().solve({a, b}, {0.25, 0.75});
  const at::Tensor want_cov = at::diag(at::tensor({std::pow(0.25 * 2 + 0.75 * 1, 2), std::pow(0.25 * 1 + 0.75 * 3, 2)}, opts));
  check(r.converged && at::allclose(r.barycenter.covariance, want_cov, 0, 1e-8) &&
            at::allclose(r.barycenter.mean, at::tensor({2.5, -0.5}, opts), 0, 1e-12),
        "Gaussian barycenter equals the closed form");

  // In 1-D the optimal plan matches sorted points: (0 -> 0.5), (1 -> 3).
  const at::Tensor x = at::tensor({1.0, 0.0}, opts).view({2, 1});
  const at::Tensor y = at::tensor({0.5, 3.0}, opts).view({2, 1});
  const auto t = wbary::ot::exact_w2(x, y);
  check(t.optimal && std::abs(t.cost - (0.25 + 4.0) / 2) < 1e-12, "exact W2^2 = 2.125");

  if (argc > 1) check(std::string(WBARY_VERSION) == argv[1], std::string("version ") + WBARY_VERSION);
  if (argc > 2) {
    const std::string dir = wbary::grid::shipped_grid_model_dir();
    check(dir.rfind(argv[2], 0) == 0, "shipped model found under " + std::string(argv[2]) + ": '" + dir + "'");
  }
  return failures == 0 ? 0 : 1;
}
