// `wbary robust ...`: robust barycenters by semi-unbalanced neural OT
// (Gazdieva et al. 2025): fit, sample (rejection sampling + maps), push, eval.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "wbary/barycenter/gaussian_barycenter.h"
#include "wbary/barycenter/robust_barycenter.h"
#include "wbary/cli/common.h"
#include "wbary/cli/config_flags.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/scatter_plot.h"
#include "wbary/metrics/gaussian.h"

namespace wbary::cli {
namespace {

std::vector<std::shared_ptr<const data::Sampler>> samplers_of(const std::vector<std::string>& specs) {
  std::vector<std::shared_ptr<const data::Sampler>> out;
  for (const auto& s : specs) out.push_back(data::make_sampler(s));
  return out;
}

// Acceptance rates, and BW2-UVP to the classical Gaussian barycenter when
// every marginal is Gaussian (meaningful for the identity divergence).
nlohmann::json evaluate(const barycenter::RobustBarycenterModel& model,
                        const std::vector<std::shared_ptr<const data::Sampler>>& marginals, int64_t n, uint64_t seed) {
  const auto s = model.sample(marginals, n, seed);
  nlohmann::json e = {{"acceptance_rate", s.acceptance_rate}};
  std::vector<data::GaussianMoments> moments;
  for (const auto& m : marginals) {
    if (!m->gaussian()) return e;
    moments.push_back(*m->gaussian());
  }
  const auto exact = barycenter::GaussianBarycenter().solve(moments, model.weights());
  e["bw2_uvp_to_classical"] = metrics::bw2_uvp(s.points, exact.barycenter);
  return e;
}

}  // namespace

void register_robust(CLI::App& app) {
  CLI::App* robust = app.add_subcommand(
      "robust", "Robust barycenters: semi-unbalanced neural OT, tolerant to outliers and class imbalance");
  robust->require_subcommand(1);

  {  // fit
    struct Options {
      std::vector<std::string> marginals;
      std::string weights, out;
      bool resume = false, quiet = false;
      int threads = 0;
      double time_limit = 0;
      int64_t checkpoint_every = 1000, progress_every = 100, samples = 2000;
      barycenter::RobustBarycenterConfig config;
      std::shared_ptr<ConfigFlags> flags;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = robust->add_subcommand("fit", "Train a robust barycenter of point clouds or laws");
    cmd->footer(std::string("\n") + data::sampler_spec_help() +
                "\nExamples:\n"
                "  wbary robust fit -m a.npy -m b.npy -m c.npy --divergence kl --tau 20 --out run/\n"
                "  wbary robust fit -m gmm:means=-4/2/-4/-2,weights=1/3 -m gmm:means=4/2/4/-2,weights=3/1 \\\n"
                "                   --tau 1 --iterations 1000 --out imbalance/\n");
    cmd->add_option("--marginal,-m", o->marginals, "a marginal: file or spec (repeat; at least two)");
    cmd->add_option("--weights", o->weights, "barycentric weights lambda_k > 0, e.g. 0.3,0.7 (default uniform)");
    cmd->add_option("--out,-o", o->out, "output directory (model, samples, report, checkpoint)");
    cmd->add_flag("--resume", o->resume, "continue from OUT/checkpoint.pt");
    o->flags = std::make_shared<ConfigFlags>(cmd);
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores")->capture_default_str();
    cmd->add_option("--time-limit", o->time_limit, "stop after this many seconds of training (0 = none)");
    cmd->add_option("--checkpoint-every", o->checkpoint_every, "write OUT/checkpoint.pt every k steps")->capture_default_str();
    cmd->add_option("--progress-every", o->progress_every, "progress line every k steps")->capture_default_str();
    cmd->add_option("--samples", o->samples, "barycenter samples written to OUT/samples.npy")->capture_default_str();
    cmd->add_flag("--quiet,-q", o->quiet, "no progress output");
    o->flags->add_method("robust", barycenter::fields(o->config));
    cmd->callback([o] {
      o->flags->apply("robust", barycenter::fields(o->config));
      if (o->flags->dump_config()) {
        std::cout << barycenter::to_json(o->config).dump(2) << "\n";
        return;
      }
      if (o->marginals.empty()) throw InvalidArgument("robust fit: no --marginal given, expected at least two");
      if (o->out.empty()) throw InvalidArgument("robust fit: --out DIR is required");
      set_threads(o->threads);
      // --time-limit T runs the one-cycle over T unless --schedule-seconds says otherwise.
      if (o->time_limit > 0 && o->config.schedule_seconds == 0) o->config.schedule_seconds = o->time_limit;
      o->config.validate();
      barycenter::RobustBarycenterProblem problem{make_problem(o->marginals, o->weights), {}};
      std::error_code ec;
      std::filesystem::create_directories(o->out, ec);
      if (ec) throw IoError(o->out + ": cannot create output directory: " + ec.message());
      barycenter::RobustBarycenter solver(std::move(problem), o->config);
      const std::string checkpoint = o->out + "/checkpoint.pt";
      if (o->resume) {
        solver.load_checkpoint(checkpoint);
        if (!o->quiet) std::cerr << "resumed from " << checkpoint << " at step " << solver.steps_done() << "\n";
      }
      if (!o->quiet) {
        std::cerr << version_banner() << "\nrobust barycenter (" << to_string(o->config.divergence)
                  << ", tau = " << o->config.tau << ") of " << solver.problem().base.size() << " marginals in R^"
                  << solver.problem().base.dim() << ", " << o->config.iterations << " steps\n";
      }
      TrainingCallbacks callbacks(o->quiet ? 0 : o->progress_every, o->time_limit, o->checkpoint_every,
                                  [&] { solver.save_checkpoint(checkpoint); });
      const auto summary = solver.train(callbacks.list());
      solver.save_checkpoint(checkpoint);
      const bool interrupted = TrainingCallbacks::interrupted();
      const auto& model = solver.model();
      model.save(o->out);
      const auto& marginals = solver.problem().base.marginals;
      const auto s = model.sample(marginals, o->samples, o->config.seed + 1);
      data::write_points(o->out + "/samples.npy", s.points);
      nlohmann::json report = model.metadata();
      report["steps"] = summary.steps;
      report["finished"] = summary.finished;
      report["interrupted"] = interrupted;
      report["training_seconds"] = summary.elapsed_seconds;
      report["final"] = nlohmann::json::object();
      for (const auto& [name, value] : summary.last.losses) report["final"][name] = value;
      report["evaluation"] = evaluate(model, marginals, 8000, o->config.seed + 2);
      report["outputs"] = {{"model", o->out + "/model.pt"}, {"samples", o->out + "/samples.npy"}};
      if (model.dim() == 2) {
        // Panels: the inputs, the inputs kept by rejection sampling, the barycenter.
        io::ScatterPlot plot(3, 360);
        at::Generator gen = data::make_generator(data::derive_seed(o->config.seed, 0x706c, 0));
        for (size_t k = 0; k < marginals.size(); ++k) {
          const at::Tensor x = marginals[k]->sample(o->samples, gen);
          plot.add_points(0, as_xy(x), io::palette(k));
          const at::Tensor w = model.acceptance_weight(static_cast<int64_t>(k), x);
          const at::Tensor kept = x.index_select(0, (at::rand({x.size(0)}, gen, at::kDouble) * w.max() < w).nonzero().squeeze(1));
          plot.add_points(1, as_xy(kept), io::palette(k));
        }
        plot.add_points(2, as_xy(s.points), io::kBlack);
        plot.write(o->out + "/plot.png");
        report["outputs"]["plot"] = o->out + "/plot.png";
      }
      io::write_text_atomically(o->out + "/report.json", report.dump(2));
      if (!o->quiet) {
        std::cerr << "wrote " << o->out << "/{model.pt, model.json, samples.npy, report.json"
                  << (model.dim() == 2 ? ", plot.png" : "") << "}\nevaluation: " << report["evaluation"].dump() << "\n";
      }
      if (interrupted) {
        std::cerr << "interrupted at step " << summary.steps << "; checkpoint written to " << checkpoint
                  << " (continue with the same command and --resume)\n";
        std::exit(130);
      }
    });
  }

  {  // sample
    struct Options {
      std::string model, out, device;
      std::vector<std::string> marginals;
      int64_t n = 1000;
      uint64_t seed = 0;
      int threads = 0;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = robust->add_subcommand(
        "sample", "Draw barycenter samples: inputs accepted by rejection sampling, pushed through the maps");
    cmd->add_option("--model", o->model, "model directory written by `wbary robust fit`")->required();
    cmd->add_option("--n", o->n, "number of samples")->capture_default_str();
    cmd->add_option("--seed", o->seed)->capture_default_str();
    cmd->add_option("--marginal,-m", o->marginals, "the marginals again (default: where the model says they came from)");
    cmd->add_option("--out,-o", o->out, "output .npy or .csv")->required();
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_option("--device", o->device, "cpu | cuda | cuda:N (default: as trained)");
    cmd->callback([o] {
      set_threads(o->threads);
      if (o->n < 1) throw InvalidArgument("--n: got " + std::to_string(o->n) + ", expected >= 1");
      const auto model = barycenter::RobustBarycenterModel::load(o->model, o->device);
      const auto marginals = samplers_of(o->marginals.empty() ? model.marginal_specs() : o->marginals);
      const auto s = model.sample(marginals, o->n, o->seed);
      data::write_points(o->out, s.points);
      std::cerr << "acceptance rates:";
      for (double r : s.acceptance_rate) std::cerr << " " << r;
      std::cerr << "\n";
    });
  }

  {  // push
    struct Options {
      std::string model, in, out, device;
      int64_t marginal = 1;
      bool weights = false;
      int threads = 0;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = robust->add_subcommand(
        "push", "Map points of marginal k onto the barycenter, T_k(x); --weights writes their acceptance weights instead");
    cmd->add_option("--model", o->model, "model directory written by `wbary robust fit`")->required();
    cmd->add_option("--marginal,-i", o->marginal, "marginal index, 1-based")->required();
    cmd->add_option("--in", o->in, "input points (.npy or .csv, [n, d])")->required();
    cmd->add_option("--out,-o", o->out, "output .npy or .csv")->required();
    cmd->add_flag("--weights", o->weights, "write psi_bar'(-f^c(x)) per point (the kept density ratio) as [n, 1]");
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_option("--device", o->device, "cpu | cuda | cuda:N (default: as trained)");
    cmd->callback([o] {
      set_threads(o->threads);
      const auto model = barycenter::RobustBarycenterModel::load(o->model, o->device);
      check_marginal_index("--marginal", o->marginal, model.count());
      const at::Tensor x = data::read_points(o->in);
      if (x.size(1) != model.dim()) {
        throw InvalidArgument(o->in + ": points have dimension " + std::to_string(x.size(1)) + ", expected " +
                              std::to_string(model.dim()) + " (the model's)");
      }
      data::write_points(o->out, o->weights ? model.acceptance_weight(o->marginal - 1, x).unsqueeze(1)
                                            : model.push(o->marginal - 1, x));
    });
  }

  {  // eval
    struct Options {
      std::string model;
      std::vector<std::string> marginals;
      int64_t n = 8000;
      uint64_t seed = 0;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = robust->add_subcommand(
        "eval", "Acceptance rates, and BW2-UVP to the classical barycenter for Gaussian marginals (JSON)");
    cmd->add_option("--model", o->model, "model directory written by `wbary robust fit`")->required();
    cmd->add_option("--marginal,-m", o->marginals, "the marginals again (default: the model's)");
    cmd->add_option("--n", o->n, "samples")->capture_default_str();
    cmd->add_option("--seed", o->seed)->capture_default_str();
    cmd->callback([o] {
      const auto model = barycenter::RobustBarycenterModel::load(o->model);
      const auto marginals = samplers_of(o->marginals.empty() ? model.marginal_specs() : o->marginals);
      std::cout << evaluate(model, marginals, o->n, o->seed).dump(2) << "\n";
    });
  }
}

}  // namespace wbary::cli
