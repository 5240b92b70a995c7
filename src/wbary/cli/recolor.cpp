// `wbary recolor`: colour transfer through a barycenter of palettes (Fan et
// al. 2021, §4.4). A model trained on `palette:path=photo.jpg` marginals maps
// each photo's colours onto the barycenter palette (push, grad g_i) or, through
// the barycenter, onto another photo's palette (pull_k o push_i).
#include <chrono>
#include <iostream>

#include "wbary/barycenter/methods.h"
#include "wbary/cli/common.h"
#include "wbary/data/palette.h"
#include "wbary/error.h"
#include "wbary/io/image.h"

namespace wbary::cli {

void register_recolor(CLI::App& app) {
  struct Options {
    std::string model, image, out, weights;
    int64_t marginal = 1;
    int64_t to = 0;
    int64_t block = 1 << 16;
    int threads = 0;
    std::string device = "cpu";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "recolor",
      "Recolour a photo through a barycenter of palettes (a model fitted on palette:path=... marginals): every pixel's "
      "colour c becomes push_i(c), the barycenter palette, or pull_k(push_i(c)), photo k's palette; clamped to [0, 1]");
  cmd->add_option("--model", o->model, "model directory written by `wbary fit` on 3-D (RGB) marginals")->required();
  cmd->add_option("--image", o->image, "the photo to recolour (PNG, JPEG or BMP)")->required();
  cmd->add_option("--marginal,-i", o->marginal, "which marginal's palette the photo's colours follow, 1-based")
      ->required();
  cmd->add_option("--to", o->to,
                  "recolour into marginal k's palette (1-based) instead of the barycenter's: pull_k o push_i");
  cmd->add_option("--out,-o", o->out, "output image, .png or .jpg")->required();
  cmd->add_option("--weights", o->weights,
                  "comma-separated weights, one per input: the barycenter of those weights (models trained with "
                  "--all-weights)");
  cmd->add_option("--block", o->block, "distinct colours mapped at a time (bounds memory)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->footer(
      "\nExample (the barycenter of three photos' palettes, then each photo recoloured):\n"
      "  wbary fit -m palette:path=a.jpg -m palette:path=b.jpg -m palette:path=c.jpg --out pal/\n"
      "  wbary recolor --model pal/ --image a.jpg -i 1 --out a_bary.png\n"
      "  wbary recolor --model pal/ --image a.jpg -i 1 --to 2 --out a_as_b.png\n");
  cmd->callback([o] {
    set_threads(o->threads);
    auto model = barycenter::load_model(o->model, o->device, o->weights, "--weights");
    if (model->dim() != 3) {
      throw InvalidArgument("recolor: " + o->model + " is a " + std::to_string(model->dim()) +
                            "-D model; colours are 3-D (train on palette:path=... marginals)");
    }
    check_marginal_index("--marginal", o->marginal, model->count());
    if (o->to != 0) check_marginal_index("--to", o->to, model->count());
    const io::RgbImage photo = io::read_rgb_image(o->image);
    const auto start = std::chrono::steady_clock::now();
    const io::RgbImage out = data::recolour(
        photo,
        [&](const at::Tensor& c) {
          const at::Tensor y = model->push(o->marginal - 1, c);
          return o->to == 0 ? y : model->pull(o->to - 1, y);
        },
        o->block);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    io::write_image(o->out, out);
    const double megapixels = static_cast<double>(photo.width) * photo.height / 1e6;
    std::cerr << "recolor: " << photo.width << "x" << photo.height << " pixels mapped in " << seconds << " s ("
              << megapixels / seconds << " megapixels/s); wrote " << o->out << "\n";
  });
}

}  // namespace wbary::cli
