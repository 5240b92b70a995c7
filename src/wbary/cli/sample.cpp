// `wbary sample`, `push`, `pull`: use a trained barycenter model of any method.
#include "wbary/barycenter/methods.h"
#include "wbary/cli/common.h"
#include "wbary/data/empirical.h"
#include "wbary/error.h"

namespace wbary::cli {

void register_sample(CLI::App& app) {
  struct Options {
    std::string model, out, weights;
    int64_t n = 1000;
    uint64_t seed = 0;
    int threads = 0;
    std::string device = "cpu";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("sample", "Draw n samples of the barycenter from a trained model: h#eta (NWB), or fresh samples of the marginals pushed "
      "onto it (CWB, CRWB: these need the marginals' files)");
  cmd->add_option("--model", o->model, "model directory written by `wbary fit`")->required();
  cmd->add_option("--n", o->n, "number of samples")->capture_default_str();
  cmd->add_option("--seed", o->seed, "latent seed")->capture_default_str();
  cmd->add_option("--weights", o->weights,
                  "comma-separated weights, one per input: the barycenter of those weights (models trained with "
                  "--all-weights)");
  cmd->add_option("--out,-o", o->out, "output .npy or .csv")->required();
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->footer("\nExample:\n  wbary sample --model run/ --n 10000 --out bary.npy\n");
  cmd->callback([o] {
    set_threads(o->threads);
    if (o->n < 1) throw InvalidArgument("--n: got " + std::to_string(o->n) + ", expected >= 1");
    auto model = barycenter::load_model(o->model, o->device, o->weights, "--weights");
    data::write_points(o->out, model->sample(o->n, o->seed));
  });
}

void register_push_pull(CLI::App& app) {
  struct Options {
    std::string model, in, out, weights;
    int64_t marginal = 1;
    int threads = 0;
    std::string device = "cpu";
  };
  for (const bool push : {true, false}) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand(
        push ? "push" : "pull",
        push ? "Map points of marginal i onto the barycenter: grad g_i(x) (NWB), grad psi_i(x) (CWB), x - grad f_i(x)/2 (CRWB)"
             : "Map barycenter points back onto marginal i: grad f_i(y) (NWB), grad psibar_i(y) (CWB); pull of `wbary sample` "
               "generates marginal i");
    cmd->add_option("--model", o->model, "model directory written by `wbary fit`")->required();
    cmd->add_option("--marginal,-i", o->marginal, "marginal index, 1-based")->required();
    cmd->add_option("--in", o->in, "input points (.npy or .csv, [n, d])")->required();
    cmd->add_option("--out,-o", o->out, "output .npy or .csv")->required();
    cmd->add_option("--weights", o->weights,
                    "comma-separated weights, one per input: the barycenter of those weights (models trained with "
                    "--all-weights)");
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_option("--device", o->device, "cpu | cuda | cuda:N")->capture_default_str();
    cmd->callback([o, push] {
      set_threads(o->threads);
      auto model = barycenter::load_model(o->model, o->device, o->weights, "--weights");
      if (o->marginal < 1 || o->marginal > model->count()) {
        throw InvalidArgument("--marginal: got " + std::to_string(o->marginal) + ", the model has marginals 1.." +
                              std::to_string(model->count()));
      }
      const at::Tensor x = data::read_points(o->in);
      if (x.size(1) != model->dim()) {
        throw InvalidArgument(o->in + ": points have dimension " + std::to_string(x.size(1)) +
                              ", expected " + std::to_string(model->dim()) + " (the model's)");
      }
      data::write_points(o->out, push ? model->push(o->marginal - 1, x) : model->pull(o->marginal - 1, x));
    });
  }
}

}  // namespace wbary::cli
