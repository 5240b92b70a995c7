#include "wbary/cli/evaluation.h"

#include "wbary/barycenter/evaluation.h"
#include "wbary/cli/common.h"
#include "wbary/io/scatter_plot.h"

namespace wbary::cli {
nlohmann::json evaluate_model(const barycenter::NeuralBarycenterModel& model,
                              const barycenter::BarycenterProblem& problem, int64_t n, uint64_t seed) {
  auto e = barycenter::evaluate_gaussian(model, problem, n, seed);
  if (!e) return nlohmann::json::object();
  return {{"bw2_uvp_generator", e->uvp_generator},
          {"bw2_uvp_push", e->uvp_push},
          {"bw2_uvp_push_each", e->uvp_push_each},
          {"samples", n}};
}

void plot_2d(const barycenter::NeuralBarycenterModel& model, const barycenter::BarycenterProblem& problem,
             const std::string& path, int64_t n) {
  io::ScatterPlot plot(3, 360);
  for (size_t i = 0; i < problem.size(); ++i) {
    at::Generator gen = data::make_generator(data::derive_seed(model.config().seed, 0x9107, i));
    const at::Tensor x = problem.marginals[i]->sample(n, gen);
    plot.add_points(0, as_xy(x), io::palette(i));
    plot.add_points(2, as_xy(model.push(static_cast<int64_t>(i), x)), io::palette(i));
  }
  plot.add_points(1, as_xy(model.sample(n, model.config().seed + 3)), io::kBlack);
  plot.write(path);
}

}  // namespace wbary::cli
