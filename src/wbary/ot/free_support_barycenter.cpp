#include "wbary/ot/free_support_barycenter.h"

#include <cmath>

#include "wbary/error.h"
#include "wbary/ot/bregman_barycenter.h"
#include "wbary/ot/exact_transport.h"

namespace wbary::ot {

FreeSupportBarycenter::FreeSupportBarycenter(FreeSupportConfig config) : config_(config) {
  if (config.max_iterations < 1) throw InvalidArgument("free support: --iterations must be >= 1");
  if (!(config.tolerance >= 0)) throw InvalidArgument("free support: --tolerance must be >= 0");
}

FreeSupportResult FreeSupportBarycenter::solve(const std::vector<at::Tensor>& clouds,
                                               const std::vector<at::Tensor>& cloud_weights, const at::Tensor& init,
                                               std::vector<double> weights) const {
  if (clouds.empty()) throw InvalidArgument("free support: no input clouds");
  if (init.dim() != 2 || init.size(0) == 0) throw InvalidArgument("free support: initial support must be [k >= 1, d]");
  const int64_t k = init.size(0), d = init.size(1);
  for (size_t i = 0; i < clouds.size(); ++i) {
    if (clouds[i].dim() != 2 || clouds[i].size(0) == 0 || clouds[i].size(1) != d) {
      throw InvalidArgument("free support: input " + std::to_string(i + 1) + " must be a non-empty [n, " +
                            std::to_string(d) + "] cloud (the initial support's dimension)");
    }
  }
  if (!cloud_weights.empty() && cloud_weights.size() != clouds.size()) {
    throw InvalidArgument("free support: give weights for every input cloud or for none");
  }
  weights = normalised_weights(std::move(weights), clouds.size(), "--weights");
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor b = at::full({k}, 1.0 / static_cast<double>(k), opts);
  FreeSupportResult r;
  at::Tensor X = init.to(at::kDouble).clone();
  for (int64_t it = 0; it < config_.max_iterations; ++it) {
    at::Tensor next = at::zeros({k, d}, opts);
    for (size_t i = 0; i < clouds.size(); ++i) {
      const at::Tensor Y = clouds[i].to(at::kDouble);
      const at::Tensor wi = cloud_weights.empty() || !cloud_weights[i].defined() ? at::ones({Y.size(0)}, opts)
                                                                                  : cloud_weights[i];
      const ExactTransportResult t = exact_transport(b, wi, squared_distances(X, Y));
      // diag(1/b) T_i Y_i from the sparse plan.
      std::vector<int64_t> rows, cols;
      std::vector<double> mass;
      for (const auto& e : t.plan) {
        rows.push_back(e.i);
        cols.push_back(e.j);
        mass.push_back(e.mass);
      }
      const at::Tensor proj = at::zeros({k, d}, opts).index_add_(
          0, at::tensor(rows), Y.index_select(0, at::tensor(cols)) * at::tensor(mass, opts).unsqueeze(1));
      next += weights[i] * proj / b.unsqueeze(1);
    }
    const double displacement = (next - X).square().sum().item<double>();
    X = next;
    r.displacement_trace.push_back(displacement);
    r.iterations = it + 1;
    if (displacement <= config_.tolerance) {
      r.converged = true;
      break;
    }
  }
  r.support = X;
  return r;
}

}  // namespace wbary::ot
