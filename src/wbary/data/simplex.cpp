#include "wbary/data/simplex.h"

#include <cmath>
#include <sstream>

#include "wbary/error.h"

namespace wbary::data {

at::Tensor sample_simplex(int64_t n, int64_t m, double alpha, double vertex_fraction, at::Generator& gen) {
  if (n < 0 || m < 1) throw InvalidArgument("sample_simplex: need n >= 0 and m >= 1");
  if (!(alpha > 0)) throw InvalidArgument("Dirichlet concentration must be > 0, got " + std::to_string(alpha));
  if (!(vertex_fraction >= 0 && vertex_fraction <= 1)) {
    throw InvalidArgument("vertex fraction must be in [0, 1], got " + std::to_string(vertex_fraction));
  }
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  // Dirichlet as normalised Gamma(alpha, 1) draws.
  const at::Tensor g = at::_standard_gamma(at::full({n, m}, alpha, opts), gen);
  at::Tensor w = g / g.sum(1, /*keepdim=*/true);
  if (vertex_fraction > 0 && n > 0) {
    const at::Tensor pick = at::empty({n}, opts).uniform_(0, 1, gen) < vertex_fraction;
    const at::Tensor k = at::randint(m, {n}, gen, at::TensorOptions().dtype(at::kLong));
    const at::Tensor vertex = at::one_hot(k, m).to(at::kDouble);
    w = at::where(pick.unsqueeze(1), vertex, w);
  }
  return w;
}

std::vector<double> parse_weight_vector(const std::string& text, int64_t m, const std::string& what) {
  std::vector<double> w;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const double v = std::stod(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
      w.push_back(v);
    } catch (const std::exception&) {
      throw InvalidArgument(what + ": '" + item + "' in '" + text + "' is not a number");
    }
  }
  return normalized_weights(std::move(w), m, what + " '" + text + "'");
}

std::vector<double> normalized_weights(std::vector<double> w, int64_t m, const std::string& what) {
  if (static_cast<int64_t>(w.size()) != m) {
    throw InvalidArgument(what + ": got " + std::to_string(w.size()) + " weights, expected " + std::to_string(m) +
                          " (one per input)");
  }
  double sum = 0;
  for (double v : w) {
    if (!std::isfinite(v) || v < 0) throw InvalidArgument(what + ": weights must be finite and >= 0");
    sum += v;
  }
  if (!(sum > 0)) throw InvalidArgument(what + ": the weights sum to 0");
  for (double& v : w) v /= sum;
  return w;
}

std::vector<std::vector<double>> simplex_grid(int64_t m, int64_t k) {
  if (m < 2 || m > 3) throw InvalidArgument("a weight grid needs 2 or 3 inputs, got " + std::to_string(m));
  if (k < 1) throw InvalidArgument("a weight grid needs k >= 1 steps, got " + std::to_string(k));
  std::vector<std::vector<double>> out;
  const double kk = static_cast<double>(k);
  if (m == 2) {
    for (int64_t a = k; a >= 0; --a) out.push_back({a / kk, (k - a) / kk});
    return out;
  }
  for (int64_t a = k; a >= 0; --a) {
    for (int64_t b = k - a; b >= 0; --b) out.push_back({a / kk, b / kk, (k - a - b) / kk});
  }
  return out;
}

}  // namespace wbary::data
