#include "wbary/barycenter/evaluation.h"

#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/metrics/gaussian.h"

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

std::optional<GaussianEvaluation> evaluate_gaussian(const NeuralBarycenterModel& model,
                                                    const BarycenterProblem& problem, int64_t n, uint64_t seed) {
  auto exact = exact_gaussian_barycenter(problem);
  if (!exact) return std::nullopt;
  GaussianEvaluation e;
  e.exact = *exact;
  e.uvp_generator = metrics::bw2_uvp(model.sample(n, seed), *exact);
  for (size_t i = 0; i < problem.size(); ++i) {
    at::Generator gen = data::make_generator(data::derive_seed(seed, 0xe7a1, i));
    const at::Tensor x = problem.marginals[i]->sample(n, gen);
    const double uvp = metrics::bw2_uvp(model.push(static_cast<int64_t>(i), x), *exact);
    e.uvp_push_each.push_back(uvp);
    e.uvp_push += problem.weights[i] * uvp;
  }
  return e;
}

}  // namespace wbary::barycenter
