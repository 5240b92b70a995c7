// `wbary grid-barycenter`: convolutional (entropic) barycenter of images or
// volumes (Solomon et al. 2015), and interpolation strips between two inputs.
#include <cmath>
#include <iostream>

#include "wbary/cli/common.h"
#include "wbary/data/empirical.h"
#include "wbary/error.h"
#include "wbary/grid/convolutional_barycenter.h"
#include "wbary/grid/density_image.h"
#include "wbary/io/npy.h"
#include "wbary/grid/learned_barycenter.h"
#include "wbary/training/device.h"

namespace wbary::cli {
namespace {

bool is_npy(const std::string& path) { return path.size() > 4 && path.substr(path.size() - 4) == ".npy"; }

at::Tensor read_input(const std::string& path, bool invert) {
  if (!is_npy(path)) return grid::read_density_png(path, invert);
  const io::Table t = io::read_npy(path);  // a 2-D image or 3-D volume of non-negative mass
  io::require_finite(t, path);
  return at::tensor(t.values, at::TensorOptions().dtype(at::kDouble)).view(t.shape);
}

void write_output(const std::string& path, const at::Tensor& density, bool invert) {
  if (!is_npy(path)) {
    if (density.dim() != 2) throw InvalidArgument(path + ": a 3-D barycenter must be written as .npy");
    grid::write_density_png(path, density, invert);
    return;
  }
  io::Table t;
  t.shape = density.sizes().vec();
  const at::Tensor c = density.contiguous();
  t.values.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  io::write_npy(path, t, io::NpyDtype::kFloat64);
}

}  // namespace

void register_grid(CLI::App& app) {
  struct Options {
    std::vector<std::string> inputs;
    std::string weights, out;
    int64_t steps = 0;
    bool invert = false, quiet = false;
    int threads = 0;
    grid::ConvolutionalBarycenterConfig config;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "grid-barycenter", "Entropic barycenter of images (PNG) or volumes (.npy) on a grid (Solomon et al. 2015)");
  cmd->add_option("inputs", o->inputs, "input images (.png: dark = mass) or 2-D/3-D .npy densities")->required();
  cmd->add_option("--weights", o->weights, "barycentric weights, e.g. 0.2,0.3,0.5 (default uniform; normalised)");
  auto* blur = cmd->add_option("--blur-px", o->config.blur_pixels,
                               "blur of the entropic kernel: its standard deviation in pixels, on every axis")
                   ->capture_default_str();
  cmd->add_option("--eps", o->config.epsilon,
                  "instead of --blur-px: POT's reg with each axis mapped to [0, 1] (a blur that grows with the "
                  "resolution: 4e-3 is 3 px at 64^2, 23 px at 512^2)")->excludes(blur);
  cmd->add_option("--iterations", o->config.max_iterations, "iteration cap")->capture_default_str();
  cmd->add_option("--tolerance", o->config.tolerance, "stop when the marginal error falls below")->capture_default_str();
  cmd->add_flag("--sharpen", o->config.sharpen,
                "entropic sharpening: cap the barycenter's entropy at the largest input's (Solomon et al. 2015)");
  cmd->add_option("--anneal", o->config.anneal,
                  "with --blur-px: start from twice the blur and halve it (eps-scaling; same result, fewer iterations)")
      ->capture_default_str();
  cmd->add_option("--max-sharpening", o->config.max_sharpening, "largest exponent beta of --sharpen")->capture_default_str();
  cmd->add_flag("--log-domain", o->config.log_domain,
                "every iteration in the log domain (POT's sinkhorn_log); by default 2-D images run in the linear "
                "domain on the inputs' supports while that is exact");
  cmd->add_flag("--quiet,-q", o->quiet, "no report of the blur used");
  cmd->add_option("--steps", o->steps, "with 2 inputs: write an interpolation strip of k barycenters instead");
  cmd->add_flag("--invert", o->invert, "bright = mass (default: dark = mass)");
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--out,-o", o->out, "output .png (2-D) or .npy")->required();
  cmd->footer("\nExamples:\n  wbary grid-barycenter a.png b.png c.png --weights 0.2,0.3,0.5 --blur-px 1.5 --out bary.png\n"
              "  wbary grid-barycenter a.png b.png --steps 7 --out strip.png\n");
  cmd->callback([o, cmd] {
    set_threads(o->threads);
    // In the config, epsilon = 0 means "use the blur"; on the command line it is a mistake.
    if (cmd->count("--eps") && !(o->config.epsilon > 0)) {
      throw InvalidArgument("--eps: got " + std::to_string(o->config.epsilon) + ", expected a finite value > 0");
    }
    std::vector<at::Tensor> inputs;
    for (const auto& p : o->inputs) inputs.push_back(read_input(p, o->invert));
    for (size_t k = 1; k < inputs.size(); ++k) {
      if (inputs[k].sizes() != inputs[0].sizes()) {
        std::ostringstream msg;
        msg << o->inputs[k] << ": shape " << inputs[k].sizes() << ", expected " << inputs[0].sizes() << " like "
            << o->inputs[0];
        throw InvalidArgument(msg.str());
      }
    }
    const grid::ConvolutionalBarycenter solver(o->config);
    if (!o->quiet) {
      const int64_t n = inputs[0].size(-1);
      std::cerr << "grid-barycenter: kernel of " << std::sqrt(solver.axis_epsilon(n) / 2) * static_cast<double>(n - 1)
                << " px (eps = " << solver.axis_epsilon(n) << " in POT's convention on the " << n
                << "-pixel axis)\n";
    }
    auto report = [&](const grid::GridBarycenterResult& r, const std::string& what) {
      if (r.sharpening && !r.sharpening->reached) {
        std::cerr << "warning: " << what << ": --sharpen could not reach the inputs' entropy "
                  << r.sharpening->entropy_limit << " (beta capped at " << o->config.max_sharpening
                  << "; entropy " << r.sharpening->entropy << "): the blur is too wide for these inputs; lower "
                  << "--blur-px / --eps or raise --max-sharpening\n";
      }
      if (!r.convergence.converged) {
        std::cerr << "warning: " << what << " did not converge in " << r.convergence.iterations
                  << " iterations (last error "
                  << (r.convergence.error_trace.empty() ? 0.0 : r.convergence.error_trace.back())
                  << "); raise --iterations or --eps\n";
      }
    };
    if (o->steps > 0) {
      if (inputs.size() != 2) throw InvalidArgument("--steps: needs exactly 2 inputs, got " + std::to_string(inputs.size()));
      if (o->steps < 2) throw InvalidArgument("--steps: expected >= 2");
      std::vector<at::Tensor> strip;
      for (int64_t s = 0; s < o->steps; ++s) {
        const double t = static_cast<double>(s) / static_cast<double>(o->steps - 1);
        const auto r = solver.solve(inputs, {1 - t, t});
        report(r, "step " + std::to_string(s + 1));
        strip.push_back(r.barycenter);
      }
      if (is_npy(o->out)) {
        write_output(o->out, at::stack(strip), o->invert);
      } else {
        grid::write_density_strip(o->out, strip, o->invert);
      }
      return;
    }
    std::vector<double> weights;
    if (!o->weights.empty()) weights = parse_number_list(o->weights, "--weights");
    const auto r = solver.solve(inputs, weights);
    report(r, "the barycenter");
    write_output(o->out, r.barycenter, o->invert);
  });
}

void register_grid_predict(CLI::App& app) {
  struct Options {
    std::vector<std::string> inputs;
    std::string weights, out, model, device = "cpu";
    int64_t steps = 0;
    bool invert = false;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "grid-predict", "Barycenter of 2..N images predicted by a trained network in milliseconds (Lacombe et al.)");
  cmd->add_option("inputs", o->inputs, "input images (.png: dark = mass) or 2-D .npy densities, one size")->required();
  cmd->add_option("--weights", o->weights, "barycentric weights, e.g. 0.2,0.3,0.5 (default uniform; normalised)");
  cmd->add_option("--model", o->model, "model directory from `wbary grid-train` (default: the shipped 64x64 model)");
  cmd->add_option("--steps", o->steps, "with 2 inputs: write an interpolation strip of k barycenters instead");
  cmd->add_flag("--invert", o->invert, "bright = mass (default: dark = mass)");
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--out,-o", o->out, "output .png or .npy")->required();
  cmd->footer("\nExamples:\n  wbary grid-predict a.png b.png c.png --weights 0.2,0.3,0.5 --out bary.png\n"
              "  wbary grid-predict a.png b.png --steps 7 --out strip.png\n");
  cmd->callback([o] {
    set_threads(o->threads);
    std::string dir = o->model.empty() ? grid::shipped_grid_model_dir() : o->model;
    if (dir.empty()) throw IoError("grid-predict: no --model given and the shipped model (models/grid64) is missing");
    auto model = grid::LearnedGridBarycenter::load(dir);
    model.to(training::parse_device(o->device));
    std::vector<at::Tensor> inputs;
    for (const auto& p : o->inputs) {
      inputs.push_back(read_input(p, o->invert));
      if (inputs.back().dim() != 2) throw InvalidArgument(p + ": grid-predict takes 2-D images");
      if (!inputs.back().sizes().equals(inputs[0].sizes())) {
        std::ostringstream msg;
        msg << p << ": shape " << inputs.back().sizes() << ", expected " << inputs[0].sizes() << " like " << o->inputs[0];
        throw InvalidArgument(msg.str());
      }
    }
    if (o->steps > 0) {
      if (inputs.size() != 2) throw InvalidArgument("--steps: needs exactly 2 inputs, got " + std::to_string(inputs.size()));
      if (o->steps < 2) throw InvalidArgument("--steps: expected >= 2");
      std::vector<at::Tensor> strip;
      for (int64_t s = 0; s < o->steps; ++s) {
        const double t = static_cast<double>(s) / static_cast<double>(o->steps - 1);
        strip.push_back(model.predict(inputs, {1 - t, t}));
      }
      if (is_npy(o->out)) write_output(o->out, at::stack(strip), o->invert);
      else grid::write_density_strip(o->out, strip, o->invert);
      return;
    }
    std::vector<double> weights(inputs.size(), 1.0);
    if (!o->weights.empty()) weights = parse_number_list(o->weights, "--weights");
    write_output(o->out, model.predict(inputs, weights), o->invert);
  });
}

}  // namespace wbary::cli
