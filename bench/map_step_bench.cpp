// One W2-map training step (Amos 2023, wbary's defaults: MLP potential,
// regression amortization, L-BFGS conjugate fine-tuning, batch 1024) on the
// in-house known-map pair, d = 8, 16, 64, one thread. Each repetition times
// one step after 50 warm-up steps (the amortized warm start is then good, as
// in a long run, and the conjugate solve takes the iterations it takes in
// training); the aggregates report the median. The counter conj_iters is the
// solve's iterations in the last timed step.
//
//   build/bench/map_step_bench
#include <benchmark/benchmark.h>

#include <ATen/Parallel.h>

#include "wbary/maps/known_map_pair.h"
#include "wbary/maps/w2_map.h"

namespace {

void BM_W2MapStep(benchmark::State& state) {
  const int64_t d = state.range(0);
  at::set_num_threads(static_cast<int>(state.range(1)));
  const wbary::maps::KnownMapPair pair = wbary::maps::KnownMapPair::make(d, /*seed=*/0);
  wbary::maps::W2MapConfig c;
  c.iterations = 1 << 30;
  c.log_every = 1 << 30;
  wbary::maps::W2Map solver({pair.source(), pair.target(), "", ""}, c);
  for (int k = 0; k < 50; ++k) solver.step();
  double iterations = 0;
  for (auto _ : state) iterations = solver.step().loss("conj_iters");
  state.counters["conj_iters"] = iterations;
}

BENCHMARK(BM_W2MapStep)
    ->Args({8, 1})
    ->Args({16, 1})
    ->Args({64, 1})
    ->ArgNames({"d", "threads"})
    ->Iterations(20)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
