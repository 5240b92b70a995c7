#include "wbary/ot/free_support_barycenter.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <numeric>
#include <tuple>

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
  const size_t K = clouds.size();
  std::vector<at::Tensor> Y(K);
  std::vector<ExactTransportSequence> transport;
  for (size_t i = 0; i < K; ++i) {
    Y[i] = clouds[i].to(at::kDouble).contiguous();
    const at::Tensor wi = cloud_weights.empty() || !cloud_weights[i].defined() ? at::ones({Y[i].size(0)}, opts)
                                                                                : cloud_weights[i];
    transport.emplace_back(b, wi);
  }
  FreeSupportResult r;
  at::Tensor X = init.to(at::kDouble).clone();
  std::vector<at::Tensor> projections(K);
  std::vector<int64_t> pivots(K);
  std::vector<char> certified(K);
  for (int64_t it = 0; it < config_.max_iterations; ++it) {
    // One exact OT problem per input, solved side by side. Each starts from
    // its last optimal basis: the support moves a little between iterations,
    // so few pivots are needed after the first (which starts from the
    // north-west corner along the principal axis).
    at::parallel_for(0, static_cast<int64_t>(K), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        std::vector<int32_t> rows, cols;
        if (it == 0) std::tie(rows, cols) = principal_axis_orders(X, Y[i]);
        const ExactTransportResult t = transport[i].solve(squared_distances(X, Y[i]), rows, cols);
        pivots[i] = t.pivots;
        certified[i] = t.optimal;
        // diag(1/b) T_i Y_i from the sparse plan.
        at::Tensor proj = at::zeros({k, d}, opts);
        double* p = proj.data_ptr<double>();
        const double* y = Y[i].data_ptr<double>();
        for (const auto& e : t.plan) {
          for (int64_t c = 0; c < d; ++c) p[e.i * d + c] += e.mass * y[e.j * d + c];
        }
        projections[i] = proj;
      }
    });
    at::Tensor next = at::zeros({k, d}, opts);
    for (size_t i = 0; i < K; ++i) next += weights[i] * projections[i] / b.unsqueeze(1);
    const double displacement = (next - X).square().sum().item<double>();
    X = next;
    r.displacement_trace.push_back(displacement);
    r.pivot_trace.push_back(std::accumulate(pivots.begin(), pivots.end(), int64_t{0}));
    for (char c : certified) r.certified = r.certified && c;
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
