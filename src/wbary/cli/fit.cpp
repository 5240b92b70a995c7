// `wbary fit`: train a neural Wasserstein barycenter (Fan et al. 2021, Alg. 1)
// and write the model, barycenter samples, a report and (2-D) a picture.
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "wbary/barycenter/neural_barycenter.h"
#include "wbary/cli/common.h"
#include "wbary/cli/evaluation.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/json_file.h"

namespace wbary::cli {
namespace {

struct FitOptions {
  std::vector<std::string> marginals;
  std::string weights;
  std::string out;
  bool resume = false;
  bool dump_config = false;
  int threads = 0;
  double time_limit = 0;
  int64_t checkpoint_every = 1000;
  int64_t eval_every = 0;
  int64_t eval_samples = 10000;
  int64_t eval_exact_samples = 2000;
  int64_t progress_every = 100;
  int64_t samples = 2000;
  bool quiet = false;
  barycenter::NeuralBarycenterConfig config;
};

void bind_config(CLI::App* cmd, barycenter::NeuralBarycenterConfig& c) {
  const std::map<std::string, nn::IcnnActivation> activations = {{"celu", nn::IcnnActivation::kCelu},
                                                                   {"prelu", nn::IcnnActivation::kPrelu}};
  const std::map<std::string, barycenter::Convexity> convexity = {{"clamp", barycenter::Convexity::kClamp},
                                                                    {"penalty", barycenter::Convexity::kPenalty}};
  auto g = "Algorithm 1 (defaults: Fan et al. 2021 code)";
  cmd->add_option("--iterations", c.iterations, "outer iterations K_3 (24000 = 40 epochs of 600 batches)")->group(g)->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "samples per marginal and step, M")->group(g)->capture_default_str();
  cmd->add_option("--g-steps", c.g_steps, "g-updates per f-update, K_1")->group(g)->capture_default_str();
  cmd->add_option("--f-steps", c.f_steps, "f-updates per h-update, K_2")->group(g)->capture_default_str();
  cmd->add_option("--lr-f", c.lr_f, "Adam learning rate of the potentials f_i")->group(g)->capture_default_str();
  cmd->add_option("--lr-g", c.lr_g, "Adam learning rate of the potentials g_i")->group(g)->capture_default_str();
  cmd->add_option("--lr-h", c.lr_h, "Adam learning rate of the generator h")->group(g)->capture_default_str();
  cmd->add_option("--adam-beta1", c.adam_beta1)->group(g)->capture_default_str();
  cmd->add_option("--adam-beta2", c.adam_beta2)->group(g)->capture_default_str();
  cmd->add_option("--lr-decay-every", c.lr_decay_every, "multiply learning rates by --lr-decay every k steps")->group(g)->capture_default_str();
  cmd->add_option("--lr-decay", c.lr_decay)->group(g)->capture_default_str();
  cmd->add_option("--f-convexity", c.f_convexity, "clamp | penalty")->transform(CLI::CheckedTransformer(convexity))->group(g)->default_str("clamp")->option_text("TEXT=clamp");
  cmd->add_option("--g-convexity", c.g_convexity, "clamp | penalty")->transform(CLI::CheckedTransformer(convexity))->group(g)->default_str("penalty")->option_text("TEXT=penalty");
  cmd->add_option("--convexity-penalty", c.convexity_penalty, "lambda of R(theta), eq. (10)")->group(g)->capture_default_str();
  cmd->add_option("--averaging", c.averaging, "EMA decay of the output networks' parameters per step (0 = last iterate)")->group(g)->capture_default_str();
  const std::map<std::string, barycenter::Engine> engines = {{"fused", barycenter::Engine::kFused},
                                                             {"autograd", barycenter::Engine::kAutograd}};
  cmd->add_option("--engine", c.engine, "fused (closed-form derivatives) | autograd (reference)")->transform(CLI::CheckedTransformer(engines))->group(g)->default_str("fused")->option_text("TEXT=fused");
  cmd->add_option("--seed", c.seed, "seeds networks, batches and latents")->group(g)->capture_default_str();
  cmd->add_option("--dtype", c.dtype, "float32 | float64")->group(g)->capture_default_str();
  cmd->add_option("--device", c.device, "cpu | cuda | cuda:N")->group(g)->capture_default_str();
  cmd->add_option("--log-every", c.log_every, "history record every k steps")->group(g)->capture_default_str();
  auto n = "Networks";
  cmd->add_option("--hidden-layers", c.potential.hidden_layers, "ICNN hidden layers (f_i, g_i)")->group(n)->capture_default_str();
  cmd->add_option("--width", c.potential.width, "ICNN width; 0 = max(2d, 32)")->group(n)->capture_default_str();
  cmd->add_option("--activation", c.potential.activation, "ICNN activation: celu | prelu")->transform(CLI::CheckedTransformer(activations))->group(n)->default_str("celu")->option_text("TEXT=celu");
  cmd->add_option("--square-first-layer", c.potential.square_first_layer, "square the first ICNN layer")->group(n)->capture_default_str();
  cmd->add_option("--quadratic-skip", c.potential.quadratic_skip, "add (a.x + c)^2 to the ICNN")->group(n)->capture_default_str();
  cmd->add_option("--generator-layers", c.generator.hidden_layers, "hidden Linear+BN+PReLU blocks of h")->group(n)->capture_default_str();
  cmd->add_option("--generator-width", c.generator.width, "width of h; 0 = the paper's table, >= 32")->group(n)->capture_default_str();
  cmd->add_option("--generator-batch-norm", c.generator.batch_norm)->group(n)->capture_default_str();
  cmd->add_option("--generator-final-activation", c.generator.final_activation, "PReLU on h's output")->group(n)->capture_default_str();
  cmd->add_option("--latent-dim", c.latent_dim, "dimension of Z; 0 = d")->group(n)->capture_default_str();
}

void write_outputs(const FitOptions& o, barycenter::NeuralBarycenter& solver, const training::TrainingSummary& s,
                   bool interrupted) {
  const auto& model = solver.result();
  model.save(o.out);
  const at::Tensor samples = model.sample(o.samples, model.config().seed + 1);
  data::write_points(o.out + "/samples.npy", samples);
  nlohmann::json report = model.metadata();
  report["steps"] = s.steps;
  report["finished"] = s.finished;
  report["interrupted"] = interrupted;
  report["training_seconds"] = s.elapsed_seconds;
  report["final"] = nlohmann::json::object();
  for (const auto& [name, value] : s.last.losses) report["final"][name] = value;
  const nlohmann::json evaluation =
      evaluate_model(model, solver.problem(), o.eval_samples, model.config().seed + 2, o.eval_exact_samples);
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
  if (o.dump_config) {
    std::cout << barycenter::to_json(o.config).dump(2) << "\n";
    return;
  }
  barycenter::validate(o.config);
  barycenter::BarycenterProblem problem = make_problem(o.marginals, o.weights);
  if (o.threads == 0) set_threads(automatic_threads(o.config, problem.dim()));
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw IoError(o.out + ": cannot create output directory: " + ec.message());
  barycenter::NeuralBarycenter solver(std::move(problem), o.config);
  const std::string checkpoint = o.out + "/checkpoint.pt";
  if (o.resume) {
    solver.load_checkpoint(checkpoint);
    if (!o.quiet) std::cerr << "resumed from " << checkpoint << " at step " << solver.steps_done() << "\n";
  }
  if (!o.quiet) {
    std::cerr << version_banner() << "\n";
    const auto& c = solver.model().config();
    std::cerr << "NWB: " << solver.problem().size() << " marginals in R^" << solver.problem().dim()
              << ", ICNN width " << c.potential.width << ", generator width " << c.generator.width << ", "
              << c.iterations << " iterations\n";
    for (size_t i = 0; i < solver.problem().size(); ++i) {
      std::cerr << "  marginal " << i + 1 << " (a = " << solver.problem().weights[i]
                << "): " << solver.problem().marginals[i]->describe() << "\n";
    }
  }

  TrainingCallbacks standard(o.quiet ? 0 : o.progress_every, o.time_limit, o.checkpoint_every,
                             [&] { solver.save_checkpoint(checkpoint); });
  std::vector<training::TrainingCallback*> callbacks = standard.list();
  training::EveryKSteps evaluator(o.eval_every, [&](const training::StepInfo& info) {
    nlohmann::json e =
        evaluate_model(solver.result(), solver.problem(), o.eval_samples, info.step, o.eval_exact_samples);
    if (e.empty()) return false;
    e["step"] = info.step;
    e["elapsed_seconds"] = info.elapsed_seconds;
    solver.model().history().push_back(e);
    if (!o.quiet) std::cerr << "eval " << e.dump() << "\n";
    return false;
  });
  callbacks.push_back(&evaluator);

  const training::TrainingSummary summary = solver.train(callbacks);
  solver.save_checkpoint(checkpoint);
  const bool interrupted = TrainingCallbacks::interrupted();
  write_outputs(o, solver, summary, interrupted);
  if (interrupted) {
    std::cerr << "interrupted at step " << summary.steps << "; checkpoint written to " << checkpoint
              << " (continue with the same command and --resume)\n";
    std::exit(130);
  }
}

}  // namespace

void register_fit(CLI::App& app) {
  auto o = std::make_shared<FitOptions>();
  CLI::App* cmd = app.add_subcommand("fit", "Train a neural Wasserstein barycenter of point clouds or laws");
  cmd->footer(std::string("\n") + data::sampler_spec_help() +
              "\nExamples:\n"
              "  wbary fit --marginal ring:inner=0.6,outer=1 --marginal square:side=1.6 --iterations 3000 --out run/\n"
              "  wbary fit --marginal a.npy --marginal b.csv --weights 0.3,0.7 --out run/\n"
              "  wbary fit --marginal gaussian:dim=16,seed=1 --marginal gaussian:dim=16,seed=2 \\\n"
              "            --marginal gaussian:dim=16,seed=3 --eval-every 500 --out g16/\n");
  // --config first: CLI11 runs option callbacks in definition order, so the
  // file is read before any explicit flag, and flags override it.
  cmd->add_option_function<std::string>(
         "--config",
         [o](const std::string& path) {
           const nlohmann::json j = io::read_json(path);
           barycenter::update_from_json(o->config, j.contains("config") ? j["config"] : j);
         },
         "JSON config (as printed by --dump-config, or a model.json); flags override it");
  cmd->add_option("--marginal,-m", o->marginals, "a marginal: file or spec (repeat for each; see below)");
  cmd->add_option("--weights", o->weights, "barycentric weights a_i, e.g. 0.3,0.7 (default uniform)");
  cmd->add_option("--out,-o", o->out, "output directory (model, samples, report, checkpoint)");
  cmd->add_flag("--resume", o->resume, "continue from OUT/checkpoint.pt");
  cmd->add_flag("--dump-config", o->dump_config, "print the effective config as JSON and exit");
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = automatic (all cores, or 1 for small networks)")->capture_default_str();
  cmd->add_option("--time-limit", o->time_limit, "stop after this many seconds of training (0 = none)");
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "write OUT/checkpoint.pt every k steps")->capture_default_str();
  cmd->add_option("--eval-every", o->eval_every, "evaluate every k steps (BW2-UVP for Gaussian marginals, UVP against the exact barycenter in 2-D/3-D)")->capture_default_str();
  cmd->add_option("--eval-samples", o->eval_samples, "samples per evaluation (the paper: 10000)")->capture_default_str();
  cmd->add_option("--eval-exact-samples", o->eval_exact_samples,
                  "2-D/3-D non-Gaussian inputs: points of the exact discrete barycenter the model is scored "
                  "against at the end (0 = no evaluation)")->capture_default_str();
  cmd->add_option("--progress-every", o->progress_every, "progress line every k steps")->capture_default_str();
  cmd->add_option("--samples", o->samples, "barycenter samples written to OUT/samples.npy")->capture_default_str();
  cmd->add_flag("--quiet,-q", o->quiet, "no progress output");
  bind_config(cmd, o->config);
  cmd->callback([o] {
    if (!o->dump_config) {
      if (o->marginals.empty()) throw InvalidArgument("fit: no --marginal given, expected at least one");
      if (o->out.empty()) throw InvalidArgument("fit: --out DIR is required");
    }
    run_fit(*o);
  });
}

}  // namespace wbary::cli
