#include "wbary/cli/evaluation.h"

#include <iomanip>
#include <sstream>

#include "wbary/barycenter/evaluation.h"
#include "wbary/cli/common.h"
#include "wbary/io/scatter_plot.h"

namespace wbary::cli {
nlohmann::json evaluate_against_exact(const barycenter::BarycenterModel& model,
                                      const barycenter::BarycenterProblem& problem, int64_t n_exact, uint64_t seed,
                                      int64_t repeats) {
  auto d = barycenter::evaluate_discrete(model, problem, n_exact, seed, /*max_dim=*/3, repeats);
  if (!d) return nlohmann::json::object();
  nlohmann::json out = {{"reference", d->reference},         {"samples", d->samples},
                        {"uvp_push", d->uvp_push},            {"uvp_push_each", d->uvp_push_each},
                        {"sampling_floor", d->sampling_floor}, {"method", model.method()}};
  if (d->uvp_generator) out["uvp_generator"] = *d->uvp_generator;
  if (d->repeats > 1) {
    out["repeats"] = d->repeats;
    out["uvp_push_each_sd"] = d->uvp_push_each_sd;
    out["sampling_floor_sd"] = d->sampling_floor_sd;
    if (d->uvp_generator_sd) out["uvp_generator_sd"] = *d->uvp_generator_sd;
  }
  return out;
}

nlohmann::json evaluate_model(const barycenter::BarycenterModel& model,
                              const barycenter::BarycenterProblem& problem, int64_t n, uint64_t seed, int64_t n_exact,
                              int64_t repeats) {
  if (auto e = barycenter::evaluate_gaussian(model, problem, n, seed)) {
    nlohmann::json out = {{"bw2_uvp_push", e->uvp_push},
                          {"bw2_uvp_push_each", e->uvp_push_each},
                          {"samples", n},
                          {"method", model.method()}};
    if (e->uvp_generator) out["bw2_uvp_generator"] = *e->uvp_generator;
    return out;
  }
  if (n_exact > 0) return evaluate_against_exact(model, problem, n_exact, seed, repeats);
  return nlohmann::json::object();
}

std::string evaluation_summary(const nlohmann::json& e) {
  const bool gaussian = e.contains("bw2_uvp_push");
  const std::string prefix = gaussian ? "bw2_" : "";
  const std::string method = e.value("method", std::string("nwb"));
  std::ostringstream out;
  out << std::setprecision(3);
  if (e.contains(prefix + "uvp_generator")) out << "h#eta " << e.at(prefix + "uvp_generator").get<double>() << " %, ";
  out << (method == "nwb" ? "grad g_i#mu_i " : method == "cwb" ? "grad psi_i#mu_i " : "T_i#mu_i ");
  const auto& each = e.at(prefix + "uvp_push_each");
  for (size_t i = 0; i < each.size(); ++i) out << (i ? " / " : "") << each[i].get<double>();
  out << " % (" << (gaussian ? "BW2-UVP against the exact Gaussian barycenter, " : "UVP against the exact barycenter, ")
      << e.at("samples").get<int64_t>() << " samples";
  if (!gaussian) out << "; sampling floor " << e.at("sampling_floor").get<double>() << " %";
  if (e.contains("repeats")) out << "; mean of " << e.at("repeats").get<int64_t>() << " draws";
  out << ")";
  return out.str();
}

void plot_2d(const barycenter::BarycenterModel& model, const barycenter::BarycenterProblem& problem,
             const std::string& path, int64_t n) {
  io::ScatterPlot plot(3, 360);
  for (size_t i = 0; i < problem.size(); ++i) {
    at::Generator gen = data::make_generator(data::derive_seed(model.seed(), 0x9107, i));
    const at::Tensor x = problem.marginals[i]->sample(n, gen);
    plot.add_points(0, as_xy(x), io::palette(i));
    plot.add_points(2, as_xy(model.push(static_cast<int64_t>(i), x)), io::palette(i));
  }
  plot.add_points(1, as_xy(model.sample(n, model.seed() + 3)), io::kBlack);
  plot.write(path);
}

}  // namespace wbary::cli
