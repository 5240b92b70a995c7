// Recolouring a photo through a barycenter model (§4.4): each distinct 8-bit
// colour mapped once (data::recolour) against every pixel mapped (what a
// per-pixel loop or POT-style code does), same map, same photo, one run.
// The map is an NWB model's push grad g_1 on RGB (an untrained one: the cost
// of a network evaluation does not depend on its weights). Median of repeated
// runs after one warm-up; the ratio is pixelwise / distinct.
//
//   build/bench/recolour_bench [--images a.jpg,b.jpg] [--reps 5] [--width 32]
//
// Default photos: Debian's plasma-workspace-wallpapers (Autumn, EveningGlow, Path at 2560x1600).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "timing.h"
#include "wbary/barycenter/neural_barycenter_model.h"
#include "wbary/data/palette.h"
#include "wbary/io/image.h"

namespace {


std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string w = "/usr/share/wallpapers/";
  std::vector<std::string> images = {w + "Autumn/contents/images/2560x1600.jpg",
                                     w + "EveningGlow/contents/images/2560x1600.jpg",
                                     w + "Path/contents/images/2560x1600.jpg"};
  int reps = 5;
  int64_t width = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--images")) images = split(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--width")) width = std::atoll(argv[i + 1]);
  }
  wbary::barycenter::NeuralBarycenterConfig config;  // the colour-transfer example's networks
  config.potential.width = width;
  const wbary::barycenter::NeuralBarycenterModel model(3, 2, {0.5, 0.5}, {"", ""}, config);
  const auto map = [&](const at::Tensor& c) { return model.push(0, c); };
  constexpr int64_t kBlock = 1 << 16;
  std::printf("| photo | pixels | distinct colours | pixelwise (Mpx/s) | distinct once (Mpx/s) | speed-up |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const auto& path : images) {
    if (!std::filesystem::exists(path)) {
      std::fprintf(stderr, "skipping %s (missing; install plasma-workspace-wallpapers)\n", path.c_str());
      continue;
    }
    const wbary::io::RgbImage photo = wbary::io::read_rgb_image(path);
    const int64_t pixels = static_cast<int64_t>(photo.width) * photo.height;
    std::set<uint32_t> distinct;
    for (int64_t p = 0; p < pixels; ++p) {
      const uint8_t* c = &photo.pixels[static_cast<size_t>(3 * p)];
      distinct.insert(static_cast<uint32_t>(c[0]) << 16 | static_cast<uint32_t>(c[1]) << 8 | c[2]);
    }
    // Every pixel through the map, in the same blocks.
    const double pixelwise = wbary::bench::median_seconds(reps, [&] {
      const at::Tensor colours = wbary::data::colours_of(photo);
      std::vector<at::Tensor> out;
      for (int64_t s = 0; s < pixels; s += kBlock) out.push_back(map(colours.narrow(0, s, std::min(kBlock, pixels - s))));
      (void)wbary::data::image_of(at::cat(out), photo.width, photo.height);
    });
    const double once = wbary::bench::median_seconds(reps, [&] { (void)wbary::data::recolour(photo, map, kBlock); });
    const std::string name = std::filesystem::path(path).parent_path().parent_path().parent_path().filename().string();
    std::printf("| %s | %lld | %zu | %.2f | %.2f | %.1fx |\n", name.c_str(), static_cast<long long>(pixels),
                distinct.size(), pixels / pixelwise / 1e6, pixels / once / 1e6, pixelwise / once);
  }
  return 0;
}
