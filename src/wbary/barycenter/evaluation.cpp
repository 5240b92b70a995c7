#include "wbary/barycenter/evaluation.h"

#include <cmath>
#include <tuple>

#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/error.h"
#include "wbary/metrics/gaussian.h"
#include "wbary/ot/exact_transport.h"
#include "wbary/ot/free_support_barycenter.h"

namespace wbary::barycenter {

std::optional<data::GaussianMoments> exact_gaussian_barycenter(const BarycenterProblem& problem) {
  std::vector<data::GaussianMoments> moments;
  for (const auto& m : problem.marginals) {
    auto g = m->gaussian();
    if (!g) return std::nullopt;
    moments.push_back(*g);
  }
  return GaussianBarycenter().solve(moments, problem.weights).barycenter;
}

std::optional<GaussianEvaluation> evaluate_gaussian(const BarycenterModel& model,
                                                    const BarycenterProblem& problem, int64_t n, uint64_t seed) {
  auto exact = exact_gaussian_barycenter(problem);
  if (!exact) return std::nullopt;
  GaussianEvaluation e;
  e.exact = *exact;
  if (model.has_generator()) e.uvp_generator = metrics::bw2_uvp(model.sample(n, seed), *exact);
  for (size_t i = 0; i < problem.size(); ++i) {
    at::Generator gen = data::make_generator(data::derive_seed(seed, 0xe7a1, i));
    const at::Tensor x = problem.marginals[i]->sample(n, gen);
    const double uvp = metrics::bw2_uvp(model.push(static_cast<int64_t>(i), x), *exact);
    e.uvp_push_each.push_back(uvp);
    e.uvp_push += problem.weights[i] * uvp;
  }
  return e;
}

std::pair<at::Tensor, at::Tensor> discrete_barycenter(const std::vector<at::Tensor>& clouds,
                                                      const std::vector<double>& weights, std::string* method) {
  if (clouds.size() != weights.size() || clouds.empty()) {
    throw InvalidArgument("discrete barycenter: " + std::to_string(clouds.size()) + " clouds and " +
                          std::to_string(weights.size()) + " weights, expected one weight per cloud");
  }
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  if (clouds.size() == 1) {
    if (method) *method = "the input itself";
    return {clouds[0].to(at::kDouble), at::full({clouds[0].size(0)}, 1.0 / clouds[0].size(0), f64)};
  }
  if (clouds.size() == 2) {
    // The W2 barycenter of two measures is McCann's interpolant along their
    // optimal plan: every pair (x_i, y_j) of mass P_ij sits at a_1 x_i + a_2 y_j.
    const at::Tensor x = clouds[0].to(at::kDouble), y = clouds[1].to(at::kDouble);
    const ot::ExactTransportResult r = ot::exact_w2(x, y);
    if (!r.optimal) throw InvalidArgument("discrete barycenter: the exact transport was not certified (" + r.status + ")");
    std::vector<int64_t> rows, cols;
    std::vector<double> mass;
    for (const auto& e : r.plan) {
      rows.push_back(e.i);
      cols.push_back(e.j);
      mass.push_back(e.mass);
    }
    const at::Tensor pts = weights[0] * x.index_select(0, at::tensor(rows, at::kLong)) +
                           weights[1] * y.index_select(0, at::tensor(cols, at::kLong));
    if (method) *method = "displacement interpolation of the optimal plan (exact)";
    const at::Tensor m = at::tensor(mass, f64);
    return {pts, m / m.sum()};
  }
  std::vector<at::Tensor> c64;
  for (const auto& c : clouds) c64.push_back(c.to(at::kDouble));
  const ot::FreeSupportResult r = ot::FreeSupportBarycenter().solve(c64, {}, c64[0], weights);
  if (method) *method = "free-support barycenter (Cuturi & Doucet 2014, exact LP steps; a local optimum)";
  return {r.support, at::full({r.support.size(0)}, 1.0 / r.support.size(0), f64)};
}

double w2_uvp(const at::Tensor& x, const at::Tensor& y, const at::Tensor& y_mass, const at::Tensor& x_mass) {
  const at::Tensor yd = y.to(at::kDouble), m = y_mass.to(at::kDouble);
  const at::Tensor mean = (m.unsqueeze(1) * yd).sum(0);
  const double variance = (m * (yd - mean).square().sum(1)).sum().item<double>();
  const at::Tensor xm = x_mass.defined() ? x_mass.to(at::kDouble) : at::full({x.size(0)}, 1.0 / x.size(0), m.options());
  const ot::ExactTransportResult r = ot::exact_w2(x.to(at::kDouble), yd, xm, m);
  if (!r.optimal) throw InvalidArgument("UVP: the exact transport was not certified (" + r.status + ")");
  return 100 * r.cost / variance;
}

namespace {

// One draw of evaluate_discrete.
DiscreteEvaluation evaluate_discrete_once(const BarycenterModel& model, const BarycenterProblem& problem, int64_t n,
                                          uint64_t seed) {
  // Two independent n-samples of every marginal: A makes the reference, B is
  // pushed through grad g_i and makes the second exact barycenter (the floor).
  std::vector<at::Tensor> a, b;
  for (size_t i = 0; i < problem.size(); ++i) {
    at::Generator gen = data::make_generator(data::derive_seed(seed, 0xd15c, i));
    a.push_back(problem.marginals[i]->sample(n, gen).to(at::kDouble));
    b.push_back(problem.marginals[i]->sample(n, gen).to(at::kDouble));
  }
  DiscreteEvaluation e;
  e.samples = n;
  const auto [exact, mass] = discrete_barycenter(a, problem.weights, &e.reference);
  const auto [other, other_mass] = discrete_barycenter(b, problem.weights);
  e.sampling_floor = w2_uvp(other, exact, mass, other_mass);
  if (model.has_generator()) e.uvp_generator = w2_uvp(model.sample(n, seed), exact, mass);
  for (size_t i = 0; i < problem.size(); ++i) {
    const double uvp = w2_uvp(model.push(static_cast<int64_t>(i), b[i]), exact, mass);
    e.uvp_push_each.push_back(uvp);
    e.uvp_push += problem.weights[i] * uvp;
  }
  return e;
}

// Mean and sample standard deviation.
std::pair<double, double> mean_sd(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return {mean, v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0};
}

}  // namespace

std::optional<DiscreteEvaluation> evaluate_discrete(const BarycenterModel& model, const BarycenterProblem& problem,
                                                    int64_t n, uint64_t seed, int64_t max_dim, int64_t repeats) {
  if (problem.dim() > max_dim) return std::nullopt;
  if (repeats < 1) throw InvalidArgument("evaluation: repeats must be >= 1 (got " + std::to_string(repeats) + ")");
  std::vector<DiscreteEvaluation> draws;
  for (int64_t r = 0; r < repeats; ++r) {
    draws.push_back(evaluate_discrete_once(model, problem, n, r == 0 ? seed : data::derive_seed(seed, 0x4e9e, r)));
  }
  if (repeats == 1) return draws[0];
  DiscreteEvaluation e;
  e.samples = n;
  e.repeats = repeats;
  e.reference = draws[0].reference;
  auto over_draws = [&](auto field) {
    std::vector<double> v;
    for (const auto& d : draws) v.push_back(field(d));
    return mean_sd(v);
  };
  std::tie(e.sampling_floor, e.sampling_floor_sd) = over_draws([](const auto& d) { return d.sampling_floor; });
  e.uvp_push = over_draws([](const auto& d) { return d.uvp_push; }).first;
  for (size_t i = 0; i < problem.size(); ++i) {
    const auto [mean, sd] = over_draws([i](const auto& d) { return d.uvp_push_each[i]; });
    e.uvp_push_each.push_back(mean);
    e.uvp_push_each_sd.push_back(sd);
  }
  if (draws[0].uvp_generator) {
    const auto [mean, sd] = over_draws([](const auto& d) { return *d.uvp_generator; });
    e.uvp_generator = mean;
    e.uvp_generator_sd = sd;
  }
  return e;
}

}  // namespace wbary::barycenter
