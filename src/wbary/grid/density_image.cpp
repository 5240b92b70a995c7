#include "wbary/grid/density_image.h"

#include "wbary/error.h"
#include "wbary/io/image.h"

namespace wbary::grid {

at::Tensor read_density_png(const std::string& path, bool invert) {
  const io::GreyImage img = io::read_grey_image(path);
  at::Tensor t = at::tensor(img.pixels, at::TensorOptions().dtype(at::kFloat)).to(at::kDouble).view({img.height, img.width});
  if (!invert) t = 1.0 - t;
  const double mass = t.sum().item<double>();
  if (!(mass > 0)) {
    throw IoError(path + ": image holds no mass (all " + std::string(invert ? "black" : "white") +
                  "), expected a shape" + (invert ? "" : " drawn dark on a light background (or pass --invert)"));
  }
  return t / mass;
}

void write_density_strip(const std::string& path, const std::vector<at::Tensor>& densities, bool invert) {
  if (densities.empty()) throw InvalidArgument("no densities to write");
  const int64_t h = densities[0].size(0), w = densities[0].size(1), gap = densities.size() > 1 ? 4 : 0;
  io::GreyImage img;
  img.width = static_cast<int>(densities.size() * w + (densities.size() - 1) * gap);
  img.height = static_cast<int>(h);
  img.pixels.assign(static_cast<size_t>(img.width) * img.height, 0.8f);  // grey separators
  for (size_t k = 0; k < densities.size(); ++k) {
    at::Tensor d = densities[k].to(at::kDouble).contiguous();
    if (d.dim() != 2 || d.size(0) != h || d.size(1) != w) throw InvalidArgument("densities of different shapes");
    const double peak = std::max(d.max().item<double>(), 1e-300);
    const double* p = d.data_ptr<double>();
    for (int64_t r = 0; r < h; ++r) {
      for (int64_t c = 0; c < w; ++c) {
        const float v = static_cast<float>(p[r * w + c] / peak);
        img.pixels[static_cast<size_t>(r) * img.width + k * (w + gap) + c] = invert ? v : 1.0f - v;
      }
    }
  }
  io::write_png(path, img);
}

void write_density_png(const std::string& path, const at::Tensor& density, bool invert) {
  write_density_strip(path, {density}, invert);
}

}  // namespace wbary::grid
