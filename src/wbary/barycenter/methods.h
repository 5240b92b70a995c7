// File: wbary/barycenter/methods.h
//
// The continuous barycenter methods wbary trains, by name: what `wbary fit
// --method`, `wbary.fit(method=...)` and the paper's comparisons choose
// from. A method is its config's fields (with the paper's defaults), a solver
// factory and a model loader; adding one is a registration here
// (methods.cpp), not another copy of the CLI.
//
//   nwb   Fan, Taghvaei, Chen (ICML 2021): min-max-min, ICNNs and a generator
//   cwb   Korotin, Li, Solomon, Burnaev (ICLR 2021): congruence + cycle, no minimax
//   crwb  Li, Genevay, Yurochkin, Solomon (NeurIPS 2020): regularised dual, ReLU MLPs
//   nwb-all  NWB-II (Fan et al. 2021, supplementary B): every weight vector from one training
//
// Example:
//   const auto& m = barycenter::find_method("cwb");
//   config::FieldList cfg = m.default_config();
//   cfg.set_text("iterations", "2000");
//   std::unique_ptr<barycenter::BarycenterSolver> solver = m.make_solver(problem, cfg.to_json());
//   auto model = barycenter::load_model("out/");        // whichever method wrote it
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wbary/barycenter/barycenter_model.h"
#include "wbary/barycenter/barycenter_solver.h"
#include "wbary/config/fields.h"

namespace wbary::barycenter {

/// One barycenter method as the CLI and load_model know it: name, solver factory, model loader.
struct Method {
  std::string name;    ///< "nwb", as in --method
  std::string title;   ///< one line: the method and its paper
  std::string format;  ///< the "format" its model.json carries
  /// A fresh config with the method's defaults, as a field list that owns it.
  std::function<config::FieldList()> default_config;
  /// A solver for `problem` with `config` (JSON of the method's fields;
  /// absent keys keep their defaults). InvalidArgument names a bad field.
  std::function<std::unique_ptr<BarycenterSolver>(BarycenterProblem problem, const nlohmann::json& config)>
      make_solver;
  /// Loads a model directory written by this method (device "" = as trained).
  std::function<std::unique_ptr<BarycenterModel>(const std::string& dir, const std::string& device)> load;
};

/// Every method, NWB first (the default).
const std::vector<Method>& methods();
/// InvalidArgument listing the names when there is no method `name`.
const Method& find_method(const std::string& name);
/// "nwb | cwb | crwb".
std::string method_names();

/// Loads DIR, written by any method (its model.json says which); IoError
/// naming the file when it is not a barycenter model.
std::unique_ptr<BarycenterModel> load_model(const std::string& dir, const std::string& device = "");

/// Loads DIR as above; with a non-empty `weights` text ("0.2,0.3,0.5", one
/// per input), the barycenter of those weights from a model trained for all
/// weights (nwb-all), and InvalidArgument naming the model's method for any
/// other. `what` names the option in messages (e.g. "--weights").
std::unique_ptr<BarycenterModel> load_model(const std::string& dir, const std::string& device,
                                            const std::string& weights, const std::string& what);

}  // namespace wbary::barycenter
