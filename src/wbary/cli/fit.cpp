// `wbary fit`: train a continuous barycenter (NWB by default; CWB, CRWB with
// --method) and write the model, barycenter samples, a report and (2-D) a
// picture. The method's config fields are flags (cli/config_flags.h); what
// follows the training is the same for every method.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "wbary/barycenter/methods.h"
#include "wbary/barycenter/neural_barycenter.h"
#include "wbary/cli/config_flags.h"
#include "wbary/cli/common.h"
#include "wbary/cli/evaluation.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

namespace wbary::cli {
namespace {

struct FitOptions {
  std::vector<std::string> marginals;
  std::string weights;
  std::string out;
  std::string method = "nwb";
  bool all_weights = false;
  bool resume = false;
  int threads = 0;
  double time_limit = 0;
  int64_t checkpoint_every = 1000;
  int64_t eval_every = 0;
  int64_t eval_samples = 10000;
  int64_t eval_exact_samples = 2000;
  int64_t progress_every = 100;
  int64_t samples = 2000;
  bool quiet = false;
  std::shared_ptr<ConfigFlags> flags;
};

void write_outputs(const FitOptions& o, barycenter::BarycenterSolver& solver, const training::TrainingSummary& s,
                   bool interrupted, double setup_seconds) {
  const auto& model = solver.result();
  model.save(o.out);
  const at::Tensor samples = model.sample(o.samples, model.seed() + 1);
  data::write_points(o.out + "/samples.npy", samples);
  nlohmann::json report = model.metadata();
  report["steps"] = s.steps;
  report["finished"] = s.finished;
  report["interrupted"] = interrupted;
  report["training_seconds"] = s.elapsed_seconds;
  report["setup_seconds"] = setup_seconds;
  report["final"] = nlohmann::json::object();
  for (const auto& [name, value] : s.last.losses) report["final"][name] = value;
  const nlohmann::json evaluation =
      evaluate_model(model, solver.problem(), o.eval_samples, model.seed() + 2, o.eval_exact_samples);
  if (!evaluation.empty()) report["evaluation"] = evaluation;
  report["outputs"] = {{"model", o.out + "/model.pt"}, {"samples", o.out + "/samples.npy"}};
  if (model.dim() == 2) {
    plot_2d(model, solver.problem(), o.out + "/plot.png", o.samples);
    report["outputs"]["plot"] = o.out + "/plot.png";
  }
  io::write_text_atomically(o.out + "/report.json", report.dump(2));
  if (!o.quiet) {
    std::cerr << "wrote " << o.out << "/{model.pt, model.json, samples.npy, report.json"
              << (model.dim() == 2 ? ", plot.png" : "") << "}\n";
    if (!evaluation.empty()) std::cerr << "evaluation: " << evaluation_summary(evaluation) << "\n";
  }
}

// --threads 0 picks the thread count from the network size: on 2 cores the
// fused engine ran d = 2 (width 32) and d = 16 slower on 2 threads than on 1
// (BENCHMARKS.md), since tiny products cannot amortise a thread hand-off.
int automatic_threads(const barycenter::NeuralBarycenterConfig& config, int64_t dim) {
  const auto c = barycenter::resolved(config, dim);
  const int64_t work = c.batch_size * c.potential.width * (c.potential.width + dim);
  return work < 500000 ? 1 : 0;
}

void run_fit(FitOptions& o) {
  set_threads(o.threads);
  if (o.all_weights) {
    if (o.method != "nwb" && o.method != "nwb-all") {
      throw InvalidArgument("--all-weights is NWB-II (--method nwb-all); it does not combine with --method " + o.method);
    }
    o.method = "nwb-all";
  }
  const barycenter::Method& method = barycenter::find_method(o.method);
  config::FieldList config = method.default_config();
  o.flags->apply(method.name, config);
  if (o.flags->dump_config()) {
    std::cout << config.to_json().dump(2) << "\n";
    return;
  }
  if (o.marginals.empty()) throw InvalidArgument("fit: no --marginal given, expected at least one");
  if (o.out.empty()) throw InvalidArgument("fit: --out DIR is required");
  // A method that trains in its set-up (CWB's pre-training) stops that too at the time limit.
  if (o.time_limit > 0 && config.find("pretrain_seconds") && config.find("pretrain_seconds")->get() == 0.0) {
    config.set_text("pretrain_seconds", std::to_string(o.time_limit));
  }
  barycenter::BarycenterProblem problem = make_problem(o.marginals, o.weights);
  if (o.threads == 0 && method.name == "nwb") {
    barycenter::NeuralBarycenterConfig nwb;
    barycenter::update_from_json(nwb, config.to_json());
    set_threads(automatic_threads(nwb, problem.dim()));
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw IoError(o.out + ": cannot create output directory: " + ec.message());
  // --time-limit covers the solver's set-up too (CWB's pre-training to the
  // identity, CRWB's reference box), so that methods compared at equal
  // budgets get equal wall-clock time.
  const auto setup_start = std::chrono::steady_clock::now();
  const std::unique_ptr<barycenter::BarycenterSolver> solver_ptr = method.make_solver(std::move(problem), config.to_json());
  const double setup_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();
  barycenter::BarycenterSolver& solver = *solver_ptr;
  const std::string checkpoint = o.out + "/checkpoint.pt";
  if (o.resume) {
    solver.load_checkpoint(checkpoint);
    if (!o.quiet) std::cerr << "resumed from " << checkpoint << " at step " << solver.steps_done() << "\n";
  }
  if (!o.quiet) {
    std::cerr << version_banner() << "\n";
    std::cerr << solver.describe() << "\n";
    std::cerr << solver.problem().size() << " marginals in R^" << solver.problem().dim() << ":\n";
    for (size_t i = 0; i < solver.problem().size(); ++i) {
      std::cerr << "  marginal " << i + 1 << " (a = " << solver.problem().weights[i]
                << "): " << solver.problem().marginals[i]->describe() << "\n";
    }
  }

  const double time_limit = o.time_limit > 0 ? std::max(1e-3, o.time_limit - setup_seconds) : 0;
  TrainingCallbacks standard(o.quiet ? 0 : o.progress_every, time_limit, o.checkpoint_every,
                             [&] { solver.save_checkpoint(checkpoint); });
  std::vector<training::TrainingCallback*> callbacks = standard.list();
  training::EveryKSteps evaluator(o.eval_every, [&](const training::StepInfo& info) {
    nlohmann::json e =
        evaluate_model(solver.result(), solver.problem(), o.eval_samples, info.step, o.eval_exact_samples);
    if (e.empty()) return false;
    e["step"] = info.step;
    e["elapsed_seconds"] = info.elapsed_seconds;
    solver.history().push_back(e);
    if (!o.quiet) std::cerr << "eval " << e.dump() << "\n";
    return false;
  });
  callbacks.push_back(&evaluator);

  const training::TrainingSummary summary = solver.train(callbacks);
  solver.save_checkpoint(checkpoint);
  const bool interrupted = TrainingCallbacks::interrupted();
  write_outputs(o, solver, summary, interrupted, setup_seconds);
  if (interrupted) {
    std::cerr << "interrupted at step " << summary.steps << "; checkpoint written to " << checkpoint
              << " (continue with the same command and --resume)\n";
    std::exit(130);
  }
}

}  // namespace

void register_fit(CLI::App& app) {
  auto o = std::make_shared<FitOptions>();
  CLI::App* cmd = app.add_subcommand("fit", "Train a continuous Wasserstein barycenter of point clouds or laws "
                                            "(NWB by default; CWB, CRWB or NWB-II for all weights with --method)");
  std::string methods;
  for (const auto& m : barycenter::methods()) methods += "  " + m.name + "  " + m.title + "\n";
  cmd->footer(std::string("\nMethods (--method):\n") + methods + "\n" + data::sampler_spec_help() +
              "\nExamples:\n"
              "  wbary fit --marginal ring:inner=0.6,outer=1 --marginal square:side=1.6 --iterations 3000 --out run/\n"
              "  wbary fit --marginal a.npy --marginal b.csv --weights 0.3,0.7 --out run/\n"
              "  wbary fit --marginal gaussian:dim=16,seed=1 --marginal gaussian:dim=16,seed=2 \\\n"
              "            --marginal gaussian:dim=16,seed=3 --eval-every 500 --out g16/\n"
              "  wbary fit --method cwb --marginal a.npy --marginal b.npy --time-limit 120 --out cwb/\n"
              "  wbary fit --method crwb --dump-config\n"
              "  wbary fit --all-weights --marginal ring --marginal square --marginal cross --out all/\n"
              "  wbary sample --model all/ --weights 0.2,0.3,0.5 --n 5000 --out w.npy\n");
  cmd->add_option("--method", o->method, "the barycenter method: " + barycenter::method_names())
      ->capture_default_str();
  cmd->add_flag("--all-weights", o->all_weights,
                "one model for the barycenters of every weight vector (NWB-II, = --method nwb-all); choose the "
                "weights afterwards with `wbary sample --weights`");
  cmd->add_option("--marginal,-m", o->marginals, "a marginal: file or spec (repeat for each; see below)");
  cmd->add_option("--weights", o->weights, "barycentric weights a_i, e.g. 0.3,0.7 (default uniform)");
  cmd->add_option("--out,-o", o->out, "output directory (model, samples, report, checkpoint)");
  cmd->add_flag("--resume", o->resume, "continue from OUT/checkpoint.pt");
  o->flags = std::make_shared<ConfigFlags>(cmd);
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = automatic (all cores, or 1 for small networks)")->capture_default_str();
  cmd->add_option("--time-limit", o->time_limit, "stop after this many seconds, the solver's set-up included (0 = none)");
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "write OUT/checkpoint.pt every k steps")->capture_default_str();
  cmd->add_option("--eval-every", o->eval_every, "evaluate every k steps (BW2-UVP for Gaussian marginals, UVP against the exact barycenter in 2-D/3-D)")->capture_default_str();
  cmd->add_option("--eval-samples", o->eval_samples, "samples per evaluation (the paper: 10000)")->capture_default_str();
  cmd->add_option("--eval-exact-samples", o->eval_exact_samples,
                  "2-D/3-D non-Gaussian inputs: points of the exact discrete barycenter the model is scored "
                  "against at the end (0 = no evaluation)")->capture_default_str();
  cmd->add_option("--progress-every", o->progress_every, "progress line every k steps")->capture_default_str();
  cmd->add_option("--samples", o->samples, "barycenter samples written to OUT/samples.npy")->capture_default_str();
  cmd->add_flag("--quiet,-q", o->quiet, "no progress output");
  for (const auto& m : barycenter::methods()) o->flags->add_method(m.name, m.default_config());
  cmd->callback([o] { run_fit(*o); });
}

}  // namespace wbary::cli
