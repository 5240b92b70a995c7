// The `wbary` command line: one subcommand per verb, each a thin layer over
// the library. Errors from the library (wbary::Error) are printed as one
// line and turn into exit status 1; usage errors exit 2 (CLI11's codes).
#include <c10/util/Exception.h>
#include <malloc.h>

#include <iostream>

#include "wbary/cli/common.h"
#include "wbary/error.h"

int main(int argc, char** argv) {
  // Training steps allocate and free the same tensors (hundreds of KB to a
  // few MB) every step; glibc's defaults give such blocks back to the kernel
  // (mmap above an adaptive threshold, heap trimming) and the next step
  // page-faults them in again: 20-30 % of a W2-map step at d = 2-8 (BENCHMARKS.md,
  // "Cheaper W2-map steps"). Freed memory below 32 MB a block (glibc's
  // largest threshold) stays in the heap, and up to 256 MB of it is kept.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app(
      "wbary: Wasserstein barycenters of point clouds and distributions.\n"
      "Start with `wbary fit --help`; the README has a walk-through.");
  app.require_subcommand(1);
  wbary::cli::set_threads(0);  // all cores unless --threads says otherwise
  app.set_version_flag("--version", [] { return wbary::cli::version_banner(); });
  wbary::cli::register_fit(app);
  wbary::cli::register_sample(app);
  wbary::cli::register_push_pull(app);
  wbary::cli::register_recolor(app);
  wbary::cli::register_eval(app);
  wbary::cli::register_gaussian(app);
  wbary::cli::register_draw(app);
  wbary::cli::register_grid(app);
  wbary::cli::register_w2(app);
  wbary::cli::register_free_support(app);
  wbary::cli::register_fixed_support(app);
  wbary::cli::register_map(app);
  wbary::cli::register_robust(app);
  wbary::cli::register_grid_predict(app);
  wbary::cli::register_grid_learning(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const wbary::Error& e) {
    std::cerr << "wbary: error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "wbary: error (LibTorch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "wbary: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
