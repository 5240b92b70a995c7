// `wbary grid-data` and `wbary grid-train`: the data pipeline and the
// training of the learned grid barycenter (Lacombe et al.).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "wbary/cli/common.h"
#include "wbary/error.h"
#include "wbary/grid/learned_barycenter.h"
#include "wbary/io/atomic_file.h"

namespace wbary::cli {

void register_grid_learning(CLI::App& app) {
  {  // grid-data
    struct Options {
      std::string out;
      int threads = 0;
      bool quiet = false;
      grid::GridDatasetConfig config;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand(
        "grid-data", "Generate training data: random CSG shape pairs and their convolutional barycenters (.npy shards)");
    cmd->add_option("--n", o->config.n, "grid side")->capture_default_str();
    cmd->add_option("--count", o->config.count, "examples")->capture_default_str();
    cmd->add_option("--shard-size", o->config.shard_size, "examples per shard")->capture_default_str();
    cmd->add_option("--inputs", o->config.inputs, "shapes per example (2 = pairs, as the authors train)")->capture_default_str();
    cmd->add_option("--eps", o->config.epsilon, "entropic regularisation of the ground truth (POT's grid convention)")->capture_default_str();
    cmd->add_option("--seed", o->config.seed)->capture_default_str();
    cmd->add_option("--out,-o", o->out, "dataset directory (rerun the same command to resume)")->required();
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_flag("--quiet,-q", o->quiet);
    cmd->callback([o] {
      set_threads(o->threads);
      training::CancelOnSignal ctrl_c;
      const auto start = std::chrono::steady_clock::now();
      int64_t first = -1;
      grid::generate_grid_dataset(
          o->config, o->out,
          [&](int64_t done, int64_t total) {
            if (first < 0) first = done - 1;
            if (o->quiet || (done % 100 != 0 && done != total)) return;
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double rate = static_cast<double>(done - first) / std::max(secs, 1e-9);
            std::cerr << "example " << done << "/" << total << "  " << rate << " /s  left "
                      << training::format_duration(static_cast<double>(total - done) / std::max(rate, 1e-9)) << "\n";
          },
          [] { return training::CancelOnSignal::requested(); });
      if (training::CancelOnSignal::requested()) {
        std::cerr << "interrupted; finished shards are kept (rerun the same command to resume)\n";
        std::exit(130);
      }
    });
  }

  {  // grid-train
    struct Options {
      std::string data, out;
      bool resume = false, quiet = false, dump_config = false;
      int threads = 0;
      double time_limit = 0;
      int64_t checkpoint_every = 500, progress_every = 100;
      grid::GridTrainingConfig config;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("grid-train", "Train the barycentric U-Net on a `wbary grid-data` dataset");
    cmd->add_option("--data", o->data, "dataset directory");
    cmd->add_option("--out,-o", o->out, "model directory (model.pt, model.json, checkpoint.pt)");
    cmd->add_flag("--resume", o->resume, "continue from OUT/checkpoint.pt");
    cmd->add_flag("--dump-config", o->dump_config, "print the effective config as JSON and exit");
    auto& c = o->config;
    cmd->add_option("--base-channels", c.net.base_channels, "channels of the first level")->capture_default_str();
    cmd->add_option("--levels", c.net.levels, "pooling levels")->capture_default_str();
    cmd->add_option("--optimizer", c.optimizer, "sgd (Nesterov, the authors') | adam")->capture_default_str();
    cmd->add_option("--lr", c.learning_rate, "initial learning rate of each cosine cycle")->capture_default_str();
    cmd->add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str();
    cmd->add_option("--restart-period", c.restart_period, "steps of the first cosine cycle (T0)")->capture_default_str();
    cmd->add_option("--restart-mult", c.restart_mult, "cycle length factor (T_mult)")->capture_default_str();
    cmd->add_option("--iterations", c.iterations)->capture_default_str();
    cmd->add_option("--batch-size", c.batch_size)->capture_default_str();
    cmd->add_option("--validation-fraction", c.validation_fraction, "held-out share (end of the dataset)")->capture_default_str();
    cmd->add_option("--validate-every", c.validate_every)->capture_default_str();
    cmd->add_option("--seed", c.seed)->capture_default_str();
    cmd->add_option("--device", c.device, "cpu | cuda | cuda:N (the whole dataset is moved there)")->capture_default_str();
    cmd->add_option("--log-every", c.log_every)->capture_default_str();
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_option("--time-limit", o->time_limit, "stop after this many seconds of training");
    cmd->add_option("--checkpoint-every", o->checkpoint_every)->capture_default_str();
    cmd->add_option("--progress-every", o->progress_every)->capture_default_str();
    cmd->add_flag("--quiet,-q", o->quiet);
    cmd->callback([o] {
      if (o->dump_config) {
        std::cout << grid::to_json(o->config).dump(2) << "\n";
        return;
      }
      if (o->data.empty() || o->out.empty()) throw InvalidArgument("grid-train: --data and --out are required");
      set_threads(o->threads);
      o->config.validate();
      grid::GridBarycenterTrainer trainer(grid::GridDataset::load(o->data), o->config);
      const std::string checkpoint = o->out + "/checkpoint.pt";
      std::error_code ec;
      std::filesystem::create_directories(o->out, ec);
      if (ec) throw IoError(o->out + ": cannot create output directory: " + ec.message());
      if (o->resume) trainer.load_checkpoint(checkpoint);
      TrainingCallbacks callbacks(o->quiet ? 0 : o->progress_every, o->time_limit, o->checkpoint_every,
                                  [&] { trainer.save_checkpoint(checkpoint); });
      const auto summary = trainer.train(callbacks.list());
      trainer.save_checkpoint(checkpoint);
      trainer.model().save(o->out);
      if (!o->quiet) {
        std::cerr << "wrote " << o->out << "/{model.pt, model.json}; validation KL " << trainer.validation_kl() << "\n";
      }
      if (TrainingCallbacks::interrupted()) {
        std::cerr << "interrupted at step " << summary.steps << " (continue with --resume)\n";
        std::exit(130);
      }
    });
  }
}

}  // namespace wbary::cli
