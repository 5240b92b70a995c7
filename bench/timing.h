// Timing for the benchmark programs that are not Google Benchmark ones: the
// median of `reps` runs after one warm-up (the machine is shared and noisy,
// BENCHMARKS.md reports medians).
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace wbary::bench {

template <typename Fn>
double median_seconds(int reps, Fn fn) {
  if (reps > 1) fn();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace wbary::bench
