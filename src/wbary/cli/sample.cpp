// `wbary sample`, `push`, `pull`: use a trained barycenter model of any method.
#include <iostream>

#include "wbary/barycenter/all_weights_barycenter_model.h"
#include "wbary/barycenter/methods.h"
#include "wbary/cli/common.h"
#include "wbary/data/empirical.h"
#include "wbary/data/simplex.h"
#include "wbary/error.h"
#include "wbary/io/scatter_plot.h"

namespace wbary::cli {
namespace {

// The barycenters over a triangle (strip) of weight vectors: panel (row r,
// j-th in the row) at column (k - r)/2 + j, e_1 at the top, e_2 bottom left,
// e_3 bottom right; each in the weights' mix of the inputs' colours.
void write_weight_grid(const std::string& dir, const std::string& device, int64_t k, int64_t n, uint64_t seed,
                       const std::string& out) {
  if (out.size() < 4 || out.substr(out.size() - 4) != ".png") {
    throw InvalidArgument("--grid writes a picture: --out must end in .png, got '" + out + "'");
  }
  auto loaded = barycenter::load_model(dir, device);
  std::shared_ptr<const barycenter::AllWeightsBarycenterModel> model(
      dynamic_cast<barycenter::AllWeightsBarycenterModel*>(loaded.get()));
  if (!model) {
    throw InvalidArgument("--grid: " + dir + " is a " + loaded->method() +
                          " model, trained for one weight vector; train with `wbary fit --all-weights`");
  }
  loaded.release();
  if (model->dim() != 2) {
    throw InvalidArgument("--grid draws 2-D barycenters; " + dir + " is " + std::to_string(model->dim()) + "-D");
  }
  const auto weights = data::simplex_grid(model->count(), k);
  std::vector<std::array<double, 2>> positions;
  if (model->count() == 2) {
    for (size_t j = 0; j < weights.size(); ++j) positions.push_back({static_cast<double>(j), 0.0});
  } else {
    for (int64_t r = 0; r <= k; ++r) {
      for (int64_t j = 0; j <= r; ++j) positions.push_back({0.5 * static_cast<double>(k - r) + j, static_cast<double>(r)});
    }
  }
  io::ScatterPlot plot(positions, k >= 8 ? 160 : 220);
  for (size_t p = 0; p < weights.size(); ++p) {
    const at::Tensor y = model->sample(n, weights[p], seed).contiguous();
    std::array<double, 3> mix{0, 0, 0};
    for (size_t i = 0; i < weights[p].size(); ++i) {
      for (int c = 0; c < 3; ++c) mix[c] += weights[p][i] * io::palette(i)[c];
    }
    plot.add_points(static_cast<int>(p), std::vector<double>(y.data_ptr<double>(), y.data_ptr<double>() + y.numel()),
                    {static_cast<uint8_t>(mix[0]), static_cast<uint8_t>(mix[1]), static_cast<uint8_t>(mix[2])});
  }
  plot.write(out);
  std::cerr << "wrote " << out << ": " << weights.size() << " weight vectors, " << n << " samples each\n";
}

}  // namespace

void register_sample(CLI::App& app) {
  struct Options {
    std::string model, out, weights;
    int64_t n = 1000;
    int64_t grid = 0;
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
  cmd->add_option("--grid", o->grid,
                  "models trained with --all-weights, 2-D: draw n samples at every weight vector of a triangle (3 "
                  "inputs) or strip (2 inputs) with K steps per side, into the picture --out FILE.png");
  cmd->add_option("--out,-o", o->out, "output .npy or .csv (.png with --grid)")->required();
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->footer("\nExamples:\n  wbary sample --model run/ --n 10000 --out bary.npy\n"
              "  wbary sample --model all/ --weights 0.2,0.3,0.5 --n 5000 --out w.npy\n"
              "  wbary sample --model all/ --grid 5 --n 1500 --out triangle.png\n");
  cmd->callback([o] {
    set_threads(o->threads);
    if (o->n < 1) throw InvalidArgument("--n: got " + std::to_string(o->n) + ", expected >= 1");
    if (o->grid != 0) {
      write_weight_grid(o->model, o->device, o->grid, o->n, o->seed, o->out);
      return;
    }
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
      check_marginal_index("--marginal", o->marginal, model->count());
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
