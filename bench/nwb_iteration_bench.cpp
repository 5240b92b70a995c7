// One outer iteration of Algorithm 1 (Fan et al. 2021): 24 g-updates, 4
// f-updates and 1 h-update per marginal, three Gaussian marginals, batch
// 100, the paper's widths (ICNN H = 2d, generator H_h from NWB1_gmm.py),
// for both engines side by side. Each repetition times one iteration; the
// aggregates report the median over 20 (or --benchmark_repetitions).
//
//   build/bench/nwb_iteration_bench --benchmark_filter='/2/|/16/'
//   /usr/bin/python3 bench/nwb_report.py build/bench/nwb_iteration_bench   (table with ratios)
#include <benchmark/benchmark.h>

#include <ATen/Parallel.h>

#include <vector>

#include "wbary/barycenter/neural_barycenter.h"
#include "wbary/data/spec.h"
#include "wbary/nn/small_gemm.h"

namespace {

using wbary::barycenter::Engine;

int64_t paper_generator_width(int64_t d) {
  switch (d) {
    case 2: return 10;
    case 16: return 32;
    case 64: return 100;
    case 128: return 160;
    case 256: return 280;
    default: return 2 * d;
  }
}

void BM_OuterIteration(benchmark::State& state) {
  const int64_t d = state.range(0);
  const Engine engine = state.range(1) == 0 ? Engine::kFused : Engine::kAutograd;
  at::set_num_threads(static_cast<int>(state.range(2)));
  wbary::barycenter::BarycenterProblem problem;
  for (int s = 1; s <= 3; ++s) {
    const std::string spec = "gaussian:dim=" + std::to_string(d) + ",seed=" + std::to_string(s);
    problem.specs.push_back(spec);
    problem.marginals.push_back(wbary::data::make_sampler(spec));
  }
  wbary::barycenter::NeuralBarycenterConfig c;
  c.engine = engine;
  c.potential.width = 2 * d;
  c.generator.width = paper_generator_width(d);
  c.iterations = 1 << 30;
  wbary::barycenter::NeuralBarycenter solver(problem, c);
  for (int k = 0; k < 2; ++k) solver.step();  // warm-up: workspaces, caches
  for (auto _ : state) benchmark::DoNotOptimize(solver.step());
  state.SetLabel(engine == Engine::kFused ? "fused" : "autograd");
}

void arguments(benchmark::internal::Benchmark* b) {
  for (int64_t d : {2, 16, 64, 128, 256}) {
    for (int64_t threads : {1, 2}) {
      for (int64_t engine : {0, 1}) b->Args({d, engine, threads});
    }
  }
}

BENCHMARK(BM_OuterIteration)
    ->Apply(arguments)
    ->ArgNames({"d", "autograd", "threads"})
    ->Iterations(1)
    ->Repetitions(20)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The machine's float32 GEMM rate through LibTorch (OpenBLAS), the yardstick
// for the fused engine's GFLOP/s in bench/nwb_report.py.
void BM_GemmPeak(benchmark::State& state) {
  const int64_t n = state.range(0);
  at::set_num_threads(static_cast<int>(state.range(1)));
  const at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
  at::Tensor c = at::empty({n, n});
  at::mm_out(c, a, b);
  for (auto _ : state) at::mm_out(c, a, b);
}

BENCHMARK(BM_GemmPeak)
    ->Args({1024, 1})
    ->Args({1024, 2})
    ->ArgNames({"n", "threads"})
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The rate of the small products the fused engine actually calls
// (nn/small_gemm.h: LIBXSMM's JIT kernels, AVX-512 where the CPU has it),
// on n x n x n float32 products whose operands stay in L1/L2, each thread on
// its own buffers. OpenBLAS's mm above may use an older kernel family than
// the CPU offers (on the development machine 102 GFLOP/s on one core
// against 217 here, AVX2 against AVX-512), so the report takes the larger.
void BM_SmallGemmPeak(benchmark::State& state) {
  const int64_t n = state.range(0), threads = state.range(1), repeats = 256;
  at::set_num_threads(static_cast<int>(threads));
  std::vector<at::Tensor> a(threads), b(threads), c(threads);
  for (int64_t t = 0; t < threads; ++t) {
    a[t] = at::randn({n, n});
    b[t] = at::randn({n, n});
    c[t] = at::zeros({n, n});
  }
  auto run = [&] {
    at::parallel_for(0, threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        for (int64_t r = 0; r < repeats; ++r) {
          wbary::nn::cpu::small_gemm(a[t].data_ptr<float>(), false, b[t].data_ptr<float>(), false,
                                     c[t].data_ptr<float>(), n, n, n, /*accumulate=*/false);
        }
      }
    });
  };
  run();
  for (auto _ : state) run();
  // bench/nwb_report.py reads the flops of one timed call from here.
  state.counters["flop"] = static_cast<double>(2 * n * n * n * repeats * threads);
}

BENCHMARK(BM_SmallGemmPeak)
    ->Args({64, 1})
    ->Args({64, 2})
    ->ArgNames({"n", "threads"})
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
