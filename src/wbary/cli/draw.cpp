// `wbary draw`: write samples of a synthetic law, e.g. to make example data.
#include "wbary/cli/common.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"

namespace wbary::cli {

void register_draw(CLI::App& app) {
  struct Options {
    std::string marginal, out;
    int64_t n = 1000;
    uint64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("draw", "Write n samples of a law given by a spec (see `wbary fit --help`)");
  cmd->add_option("--marginal,-m", o->marginal, "a spec, e.g. ring:inner=0.6,outer=1")->required();
  cmd->add_option("--n", o->n, "number of samples")->capture_default_str();
  cmd->add_option("--seed", o->seed)->capture_default_str();
  cmd->add_option("--out,-o", o->out, "output .npy or .csv")->required();
  cmd->callback([o] {
    if (o->n < 1) throw InvalidArgument("--n: got " + std::to_string(o->n) + ", expected >= 1");
    auto s = data::make_sampler(o->marginal);
    at::Generator gen = data::make_generator(o->seed);
    data::write_points(o->out, s->sample(o->n, gen));
  });
}

}  // namespace wbary::cli
