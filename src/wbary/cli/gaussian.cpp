// `wbary gaussian`: the exact barycenter of Gaussians (fixed point of
// Alvarez-Esteban et al. 2016).
#include <iostream>
#include <nlohmann/json.hpp>

#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/cli/common.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

namespace wbary::cli {
namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

void register_gaussian(CLI::App& app) {
  struct Options {
    std::string input, out, weights;
    std::vector<std::string> marginals;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("gaussian", "Exact W2 barycenter of Gaussians (mean and covariance)");
  cmd->add_option("--input", o->input,
                  "JSON {\"weights\": [..], \"marginals\": [{\"mean\": [..], \"cov\": [[..]]}, ..]}");
  cmd->add_option("--marginal,-m", o->marginals, "a Gaussian spec (gaussian:dim=..,seed=.. or gaussian:json=..)");
  cmd->add_option("--weights", o->weights, "weights a_i, e.g. 0.3,0.7 (default uniform)");
  cmd->add_option("--out,-o", o->out, "write the result as JSON here (default: stdout)");
  cmd->footer("\nExample:\n  wbary gaussian -m gaussian:dim=2,seed=1 -m gaussian:dim=2,seed=2 --weights 0.25,0.75\n");
  cmd->callback([o] {
    std::vector<data::GaussianMoments> moments;
    std::vector<double> weights;
    if (!o->input.empty()) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(io::read_text(o->input));
        for (const auto& m : j.at("marginals")) {
          const auto mean = m.at("mean").get<std::vector<double>>();
          const auto cov = m.at("cov").get<std::vector<std::vector<double>>>();
          std::vector<double> flat;
          for (const auto& row : cov) {
            if (row.size() != mean.size()) throw IoError(o->input + ": a \"cov\" row has the wrong length");
            flat.insert(flat.end(), row.begin(), row.end());
          }
          if (cov.size() != mean.size()) throw IoError(o->input + ": \"cov\" must be d x d with d = len(mean)");
          const auto d = static_cast<int64_t>(mean.size());
          moments.push_back({at::tensor(mean, at::kDouble), at::tensor(flat, at::kDouble).reshape({d, d})});
        }
        if (j.contains("weights")) weights = j["weights"].get<std::vector<double>>();
      } catch (const nlohmann::json::exception& e) {
        throw IoError(o->input + ": expected {\"weights\": [..], \"marginals\": [{\"mean\", \"cov\"}, ..]}: " + e.what());
      }
    }
    for (const auto& spec : o->marginals) {
      auto s = data::make_sampler(spec);
      auto g = s->gaussian();
      if (!g) throw InvalidArgument("--marginal '" + spec + "' is not a Gaussian");
      moments.push_back(*g);
    }
    if (moments.empty()) throw InvalidArgument("gaussian: give --input FILE or --marginal specs");
    if (!o->weights.empty()) weights = parse_number_list(o->weights, "--weights");
    if (weights.empty()) weights.assign(moments.size(), 1.0 / static_cast<double>(moments.size()));
    const auto r = barycenter::GaussianBarycenter().solve(moments, weights);
    const int64_t d = r.barycenter.mean.numel();
    std::vector<std::vector<double>> cov;
    for (int64_t k = 0; k < d; ++k) cov.push_back(to_vector(r.barycenter.covariance[k]));
    nlohmann::json out = {{"mean", to_vector(r.barycenter.mean)}, {"cov", cov},       {"weights", weights},
                          {"converged", r.converged},             {"iterations", r.iterations},
                          {"final_error", r.error_trace.empty() ? 0.0 : r.error_trace.back()}};
    if (!r.converged) std::cerr << "warning: fixed point did not converge in " << r.iterations << " iterations\n";
    if (o->out.empty()) {
      std::cout << out.dump(2) << "\n";
    } else {
      io::write_text_atomically(o->out, out.dump(2));
    }
  });
}

}  // namespace wbary::cli
