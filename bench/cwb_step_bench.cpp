// One CWB training step (Korotin et al. 2021; the authors' batch 1024 and
// 1024 congruence samples, ICNN width max(64, 2d), three Gaussian
// marginals) for the fused and the autograd engine side by side. Each
// repetition times one step; the aggregates report the median.
//
//   build/bench/cwb_step_bench
//   /usr/bin/python3 bench/cwb_report.py build/bench/cwb_step_bench   (table with ratios)
#include <benchmark/benchmark.h>

#include <ATen/Parallel.h>

#include "wbary/barycenter/continuous_barycenter.h"
#include "wbary/data/spec.h"

namespace {

void BM_CwbStep(benchmark::State& state) {
  const int64_t d = state.range(0);
  at::set_num_threads(static_cast<int>(state.range(2)));
  wbary::barycenter::BarycenterProblem problem;
  for (int s = 1; s <= 3; ++s) {
    const std::string spec = "gaussian:dim=" + std::to_string(d) + ",seed=" + std::to_string(s);
    problem.specs.push_back(spec);
    problem.marginals.push_back(wbary::data::make_sampler(spec));
  }
  wbary::barycenter::ContinuousBarycenterConfig c;
  c.engine = state.range(1) == 0 ? wbary::nn::Engine::kFused : wbary::nn::Engine::kAutograd;
  c.iterations = 1 << 30;
  c.pretrain_iterations = 0;  // not timed here; the step's cost does not depend on it
  wbary::barycenter::ContinuousBarycenter solver(problem, c);
  for (int k = 0; k < 2; ++k) solver.step();  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(solver.step());
  state.SetLabel(wbary::nn::to_string(c.engine));
}

void arguments(benchmark::internal::Benchmark* b) {
  for (int64_t d : {2, 16, 64, 128}) {
    for (int64_t engine : {0, 1}) b->Args({d, engine, 2});
  }
}

BENCHMARK(BM_CwbStep)
    ->Apply(arguments)
    ->ArgNames({"d", "autograd", "threads"})
    ->Iterations(1)
    ->Repetitions(15)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
