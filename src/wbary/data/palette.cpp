#include "wbary/data/palette.h"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "wbary/error.h"

namespace wbary::data {
namespace {

// n RGB byte triples -> [n, 3] float64 in [0, 1] (a copy).
at::Tensor colours_from_bytes(const uint8_t* bytes, int64_t n) {
  return at::from_blob(const_cast<uint8_t*>(bytes), {n, 3}, at::kByte).to(at::kDouble).div_(255.0);
}

// "[a, b]" for an error message.
std::string shape_text(const at::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

at::Tensor colours_of(const io::RgbImage& image) {
  const int64_t n = static_cast<int64_t>(image.width) * image.height;
  if (n == 0) throw InvalidArgument("colours_of: the image has no pixels");
  return colours_from_bytes(image.pixels.data(), n);
}

io::RgbImage image_of(const at::Tensor& colours, int width, int height) {
  const int64_t n = static_cast<int64_t>(width) * height;
  if (colours.dim() != 2 || colours.size(0) != n || colours.size(1) != 3) {
    throw InvalidArgument("image_of: colours have shape " + shape_text(colours) + ", expected [" +
                          std::to_string(n) + ", 3] (" + std::to_string(width) + " x " + std::to_string(height) +
                          " pixels, RGB)");
  }
  const at::Tensor c = colours.to(at::kCPU).to(at::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  io::RgbImage out(width, height);
  for (int64_t k = 0; k < 3 * n; ++k) {
    if (!std::isfinite(p[k])) {
      throw InvalidArgument("image_of: pixel " + std::to_string(k / 3) + " (row " + std::to_string(k / 3 / width) +
                            ", column " + std::to_string(k / 3 % width) + ") has colour component " +
                            std::to_string(p[k]) + ", expected a finite value");
    }
    out.pixels[static_cast<size_t>(k)] = static_cast<uint8_t>(std::lround(std::fmin(std::fmax(p[k], 0.0), 1.0) * 255.0));
  }
  return out;
}

io::RgbImage recolour(const io::RgbImage& image, const std::function<at::Tensor(const at::Tensor&)>& map,
                      int64_t block) {
  if (block < 1) throw InvalidArgument("recolour: block must be >= 1, got " + std::to_string(block));
  const int64_t n = static_cast<int64_t>(image.width) * image.height;
  if (n == 0) throw InvalidArgument("recolour: the image has no pixels");
  // A photo has far fewer distinct 8-bit colours than pixels (the 2560x1600
  // KDE wallpapers: 150k-355k of 4.1M), so each distinct colour is mapped
  // once: `slot` numbers the colours of the 2^24-entry cube in order of
  // first appearance.
  std::vector<int32_t> slot(size_t{1} << 24, -1);
  std::vector<int32_t> pixel_slot(static_cast<size_t>(n));
  std::vector<uint8_t> distinct;
  for (int64_t k = 0; k < n; ++k) {
    const uint8_t* c = &image.pixels[static_cast<size_t>(3 * k)];
    const size_t key = (size_t{c[0]} << 16) | (size_t{c[1]} << 8) | c[2];
    if (slot[key] < 0) {
      slot[key] = static_cast<int32_t>(distinct.size() / 3);
      distinct.insert(distinct.end(), c, c + 3);
    }
    pixel_slot[static_cast<size_t>(k)] = slot[key];
  }
  const int64_t m = static_cast<int64_t>(distinct.size() / 3);
  const at::Tensor colours = colours_from_bytes(distinct.data(), m);
  at::Tensor mapped = at::empty_like(colours);
  for (int64_t start = 0; start < m; start += block) {
    const int64_t end = std::min(m, start + block);
    at::Tensor y = map(colours.slice(0, start, end));
    if (y.dim() != 2 || y.size(0) != end - start || y.size(1) != 3) {
      throw InvalidArgument("recolour: the map returned shape " + shape_text(y) + " for " +
                            std::to_string(end - start) + " colours, expected [" + std::to_string(end - start) +
                            ", 3]");
    }
    mapped.slice(0, start, end).copy_(y);
  }
  const io::RgbImage palette = image_of(mapped, static_cast<int>(m), 1);
  io::RgbImage out(image.width, image.height);
  for (int64_t k = 0; k < n; ++k) {
    const uint8_t* c = &palette.pixels[static_cast<size_t>(3) * pixel_slot[static_cast<size_t>(k)]];
    std::copy(c, c + 3, &out.pixels[static_cast<size_t>(3 * k)]);
  }
  return out;
}

}  // namespace wbary::data
