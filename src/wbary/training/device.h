// File: wbary/training/device.h
//
// Where a model trains and runs: the --device flag shared by every solver,
// and the CPU threads (the CLI's --threads, Python's wbary.set_threads).
#pragma once

#include <ATen/Context.h>

#include <string>

namespace wbary::training {

/// Checks a --device value ("cpu", "cuda" or "cuda:N") and that a GPU is
/// there for it; throws InvalidArgument naming the flag and the value.
void validate_device(const std::string& device);

/// The checked device.
at::Device parse_device(const std::string& device);

/// Every core of this machine (at least 1).
int available_cores();

/// Sets LibTorch's intra-op thread pool: `threads` as given, 0 = every core;
/// throws InvalidArgument naming `flag` when threads < 0.
void set_threads(int threads, const std::string& flag = "--threads");

}  // namespace wbary::training
