#include "wbary/ot/bregman_barycenter.h"

#include <cmath>
#include <sstream>

#include "wbary/error.h"

namespace wbary::ot {

std::vector<double> normalised_weights(std::vector<double> weights, size_t count, const std::string& flag) {
  if (weights.empty()) weights.assign(count, 1.0 / static_cast<double>(count));
  if (weights.size() != count) {
    throw InvalidArgument(flag + ": got " + std::to_string(weights.size()) + " weights, expected " +
                          std::to_string(count) + " (one per input)");
  }
  double total = 0;
  for (size_t k = 0; k < weights.size(); ++k) {
    if (!(weights[k] >= 0) || !std::isfinite(weights[k])) {
      std::ostringstream msg;
      msg << flag << ": weight " << k + 1 << " is " << weights[k] << ", expected a finite value >= 0";
      throw InvalidArgument(msg.str());
    }
    total += weights[k];
  }
  if (!(total > 0)) throw InvalidArgument(flag + ": all weights are zero");
  for (auto& w : weights) w /= total;  // normalised, as documented
  return weights;
}

BregmanResult log_bregman_barycenter(const at::Tensor& logA, const std::vector<double>& weights,
                                     const LogKernel& log_k, const LogKernel& log_kt, BregmanConfig config,
                                     int check_phase, const LogBarycenterMap& project,
                                     const at::Tensor& initial_log_scalings) {
  const int64_t count = logA.size(0);
  std::vector<int64_t> weight_shape(static_cast<size_t>(logA.dim()), 1);
  weight_shape[0] = count;
  const at::Tensor w = at::tensor(weights, at::TensorOptions().dtype(at::kDouble)).view(weight_shape);
  at::Tensor G = initial_log_scalings.defined() ? initial_log_scalings.clone() : at::zeros_like(logA);  // log v_k
  at::Tensor log_KU, log_bar, previous;
  BregmanResult r;
  for (int64_t it = 0; it < config.max_iterations; ++it) {
    log_KU = log_kt(logA - log_k(G));  // log K^T u_k with log u_k = log a_k - log K v_k
    log_bar = (w * log_KU).sum(0);     // log of the weighted geometric mean
    r.iterations = it + 1;
    // Solomon et al. skip the first iteration, whose barycenter is the blur
    // of the inputs' geometric mean; the projection feeds the next v_k.
    if (project && it > 0) log_bar = project(log_bar);
    // A projected barycenter is by design no longer every input's marginal,
    // so POT's error below stalls; there the criterion is Solomon et al.'s
    // (convolutionalBarycenter.m): the L1 change of the normalised
    // barycenter over one iteration.
    if (project && it % 10 == (check_phase + 9) % 10) previous = at::softmax(log_bar.flatten(), 0);
    if (it % 10 == check_phase && (!project || previous.defined())) {
      const double err =
          project ? (at::softmax(log_bar.flatten(), 0) - previous).abs().sum().item<double>()
                  // np.std (ddof = 0) over the inputs of v_k * K^T u_k, as POT.
                  : at::std(at::exp(G + log_KU), {0}, /*unbiased=*/false).sum().item<double>();
      r.error_trace.push_back(err);
      if (!std::isfinite(err)) throw InvalidArgument("barycenter iterations diverged (non-finite error); raise eps");
      if (err < config.tolerance) {
        r.converged = true;
        break;
      }
    }
    // Damped when projecting: alternating the marginal projections with a
    // non-convex one (entropic sharpening) swings with period 2 on binary
    // images; the average of two successive updates has the same fixed
    // points and does not.
    const at::Tensor next = log_bar.unsqueeze(0) - log_KU;
    G = project && it > 0 ? 0.5 * (G + next) : next;
  }
  r.barycenter = at::exp(log_bar);
  r.log_scalings = G;
  return r;
}

}  // namespace wbary::ot
