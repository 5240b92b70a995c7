#include "wbary/io/scatter_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "wbary/error.h"

namespace wbary::io {

Colour palette(size_t i) {
  static const Colour colours[] = {kBlue, kOrange, kGreen, kRed, kPurple};
  return colours[i % 5];
}

namespace {

std::vector<std::array<double, 2>> side_by_side(int panels) {
  std::vector<std::array<double, 2>> out;
  for (int p = 0; p < panels; ++p) out.push_back({static_cast<double>(p), 0.0});
  return out;
}

}  // namespace

ScatterPlot::ScatterPlot(int panels, int panel_size) : ScatterPlot(side_by_side(panels), panel_size) {}

ScatterPlot::ScatterPlot(std::vector<std::array<double, 2>> positions, int panel_size)
    : positions_(std::move(positions)), panel_size_(panel_size) {
  if (positions_.empty() || panel_size < 16) throw InvalidArgument("ScatterPlot: bad panel layout");
  for (const auto& p : positions_) {
    if (!(p[0] >= 0 && p[1] >= 0)) throw InvalidArgument("ScatterPlot: panel positions must be >= 0");
  }
}

void ScatterPlot::add_points(int panel, const std::vector<double>& xy, Colour colour) {
  if (panel < 0 || panel >= static_cast<int>(positions_.size())) {
    throw InvalidArgument("ScatterPlot: panel out of range");
  }
  layers_.push_back({panel, xy, colour});
}

void ScatterPlot::write(const std::string& path) const {
  double lo_x = std::numeric_limits<double>::infinity(), hi_x = -lo_x;
  double lo_y = lo_x, hi_y = -lo_x;
  for (const auto& l : layers_) {
    for (size_t k = 0; k + 1 < l.xy.size(); k += 2) {
      lo_x = std::min(lo_x, l.xy[k]);
      hi_x = std::max(hi_x, l.xy[k]);
      lo_y = std::min(lo_y, l.xy[k + 1]);
      hi_y = std::max(hi_y, l.xy[k + 1]);
    }
  }
  if (!(hi_x > lo_x)) { lo_x -= 1; hi_x += 1; }
  if (!(hi_y > lo_y)) { lo_y -= 1; hi_y += 1; }
  // One square box for all panels, with a 5 % margin, so shapes are not distorted.
  const double cx = 0.5 * (lo_x + hi_x), cy = 0.5 * (lo_y + hi_y);
  const double half = 0.55 * std::max(hi_x - lo_x, hi_y - lo_y);
  const int gap = 8;
  const int cell = panel_size_ + gap;
  double columns = 0, rows = 0;
  for (const auto& p : positions_) {
    columns = std::max(columns, p[0] + 1);
    rows = std::max(rows, p[1] + 1);
  }
  RgbImage img(static_cast<int>(std::ceil(columns * cell)) - gap, static_cast<int>(std::ceil(rows * cell)) - gap,
               255);
  std::vector<std::array<int, 2>> origin;
  for (const auto& p : positions_) {
    origin.push_back({static_cast<int>(std::lround(p[0] * cell)), static_cast<int>(std::lround(p[1] * cell))});
  }
  // A light grey frame around each panel.
  for (const auto& o : origin) {
    for (int t = 0; t < panel_size_; ++t) {
      for (const auto [x, y] : {std::array<int, 2>{o[0] + t, o[1]}, {o[0] + t, o[1] + panel_size_ - 1},
                                {o[0], o[1] + t}, {o[0] + panel_size_ - 1, o[1] + t}}) {
        if (x >= img.width || y >= img.height) continue;
        for (int c = 0; c < 3; ++c) img.pixels[(static_cast<size_t>(y) * img.width + x) * 3 + c] = 200;
      }
    }
  }
  const double alpha = 0.35;
  const int radius = panel_size_ >= 300 ? 2 : 1;
  for (const auto& l : layers_) {
    const int x0 = origin[l.panel][0], y0 = origin[l.panel][1];
    for (size_t k = 0; k + 1 < l.xy.size(); k += 2) {
      const double u = (l.xy[k] - cx) / (2 * half) + 0.5;
      const double v = 0.5 - (l.xy[k + 1] - cy) / (2 * half);
      const int px = static_cast<int>(u * (panel_size_ - 1));
      const int py = static_cast<int>(v * (panel_size_ - 1));
      for (int dy = -radius; dy <= radius; ++dy) {
        for (int dx = -radius; dx <= radius; ++dx) {
          if (dx * dx + dy * dy > radius * radius + 1) continue;
          const int x = px + dx, y = py + dy;
          if (x < 0 || y < 0 || x >= panel_size_ || y >= panel_size_) continue;
          if (x0 + x >= img.width || y0 + y >= img.height) continue;
          uint8_t* pix = &img.pixels[(static_cast<size_t>(y0 + y) * img.width + x0 + x) * 3];
          for (int c = 0; c < 3; ++c) {
            pix[c] = static_cast<uint8_t>(std::lround((1 - alpha) * pix[c] + alpha * l.colour[c]));
          }
        }
      }
    }
  }
  write_png(path, img);
}

}  // namespace wbary::io
