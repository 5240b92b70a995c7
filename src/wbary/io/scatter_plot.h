// File: wbary/io/scatter_plot.h
//
// A minimal raster scatter plot for 2-D point clouds: panels (side by side,
// or at given grid positions) sharing one coordinate box, points drawn as small alpha-blended discs.
// It exists so that `wbary fit` can show a picture of a 2-D barycenter with
// no plotting stack installed (Debian has no maintained C++ plotting
// library that writes PNG without a display or gnuplot).
//
// Example:
//   io::ScatterPlot plot(/*panels=*/2, /*panel_size=*/400);
//   plot.add_points(0, xy_a, io::kBlue);
//   plot.add_points(1, xy_bary, io::kBlack);
//   plot.write("bary.png");
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "wbary/io/image.h"

namespace wbary::io {

using Colour = std::array<uint8_t, 3>;
inline constexpr Colour kBlack{20, 20, 20};
inline constexpr Colour kBlue{31, 119, 180};
inline constexpr Colour kOrange{255, 127, 14};
inline constexpr Colour kGreen{44, 160, 44};
inline constexpr Colour kRed{214, 39, 40};
inline constexpr Colour kPurple{148, 103, 189};
/// The i-th colour of a fixed palette (cycles).
Colour palette(size_t i);

/// A PNG scatter plot of 2-D point clouds, for the CLI's pictures (stb_image_write).
class ScatterPlot {
 public:
  /// `panels` panels side by side.
  ScatterPlot(int panels, int panel_size);
  /// Panels at (column, row) positions in panel units, which may be
  /// fractional (e.g. a triangle of barycenters over weight vectors).
  ScatterPlot(std::vector<std::array<double, 2>> positions, int panel_size);

  /// Adds points (x0, y0, x1, y1, ...) to panel `panel`. The coordinate box
  /// is the union of all points added, fixed at write time.
  void add_points(int panel, const std::vector<double>& xy, Colour colour);

  /// Renders and writes a PNG atomically.
  void write(const std::string& path) const;

 private:
  struct Layer {
    int panel;
    std::vector<double> xy;
    Colour colour;
  };
  std::vector<std::array<double, 2>> positions_;
  int panel_size_;
  std::vector<Layer> layers_;
};

}  // namespace wbary::io
