#include "wbary/barycenter/methods.h"

#include "wbary/barycenter/all_weights_barycenter.h"
#include "wbary/barycenter/continuous_barycenter.h"
#include "wbary/barycenter/neural_barycenter.h"
#include "wbary/barycenter/regularized_barycenter.h"
#include "wbary/data/simplex.h"
#include "wbary/error.h"
#include "wbary/io/json_file.h"

namespace wbary::barycenter {
namespace {

// The registration of one method: its config type, solver and model.
template <class Config, class Solver, class Model>
Method make_method(std::string name, std::string title, std::string format) {
  Method m;
  m.name = std::move(name);
  m.title = std::move(title);
  m.format = std::move(format);
  m.default_config = [] { return config::owned_fields<Config>(Config{}, &fields); };
  m.make_solver = [](BarycenterProblem problem, const nlohmann::json& j) -> std::unique_ptr<BarycenterSolver> {
    Config c;
    update_from_json(c, j);
    validate(c);
    return std::make_unique<Solver>(std::move(problem), std::move(c));
  };
  m.load = [](const std::string& dir, const std::string& device) -> std::unique_ptr<BarycenterModel> {
    return std::make_unique<Model>(Model::load(dir, device));
  };
  return m;
}

}  // namespace

const std::vector<Method>& methods() {
  static const std::vector<Method> all = {
      make_method<NeuralBarycenterConfig, NeuralBarycenter, NeuralBarycenterModel>(
          "nwb", "NWB: neural Wasserstein barycenter (Fan, Taghvaei, Chen, ICML 2021)", "wbary.neural_barycenter"),
      make_method<ContinuousBarycenterConfig, ContinuousBarycenter, ContinuousBarycenterModel>(
          "cwb", "CWB: continuous W2 barycenter without minimax (Korotin et al., ICLR 2021)",
          "wbary.continuous_barycenter"),
      make_method<RegularizedBarycenterConfig, RegularizedBarycenter, RegularizedBarycenterModel>(
          "crwb", "CRWB: continuous regularised W2 barycenter (Li et al., NeurIPS 2020)",
          "wbary.regularized_barycenter"),
      make_method<AllWeightsBarycenterConfig, AllWeightsBarycenter, AllWeightsBarycenterModel>(
          "nwb-all", "NWB-II: NWB for every weight vector from one training (Fan et al. 2021, supplementary B)",
          "wbary.all_weights_barycenter"),
  };
  return all;
}

std::string method_names() {
  std::string out;
  for (const auto& m : methods()) out += (out.empty() ? "" : " | ") + m.name;
  return out;
}

const Method& find_method(const std::string& name) {
  for (const auto& m : methods()) {
    if (m.name == name) return m;
  }
  throw InvalidArgument("--method: got '" + name + "', expected " + method_names());
}

std::unique_ptr<BarycenterModel> load_model(const std::string& dir, const std::string& device) {
  const std::string path = dir + "/model.json";
  const nlohmann::json meta = io::read_json(path);
  const std::string format = meta.value("format", std::string("missing"));
  for (const auto& m : methods()) {
    if (m.format == format) return m.load(dir, device);
  }
  throw IoError(path + ": not a wbary barycenter model (\"format\" is " + format +
                ", expected one written by `wbary fit`: " + method_names() + ")");
}

std::unique_ptr<BarycenterModel> load_model(const std::string& dir, const std::string& device,
                                            const std::string& weights, const std::string& what) {
  std::unique_ptr<BarycenterModel> model = load_model(dir, device);
  if (weights.empty()) return model;
  auto* all = dynamic_cast<AllWeightsBarycenterModel*>(model.get());
  if (!all) {
    throw InvalidArgument(what + ": " + dir + " is a " + model->method() +
                          " model, trained for one weight vector; train with `wbary fit --all-weights` to choose "
                          "weights afterwards");
  }
  const std::vector<double> w = data::parse_weight_vector(weights, all->count(), what);
  std::shared_ptr<const AllWeightsBarycenterModel> owner(static_cast<AllWeightsBarycenterModel*>(model.release()));
  return at_weights(std::move(owner), w);
}

}  // namespace wbary::barycenter
