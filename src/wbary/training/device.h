// File: wbary/training/device.h
//
// Where a model trains and runs: the --device flag shared by every solver.
#pragma once

#include <ATen/Context.h>

#include <string>

namespace wbary::training {

/// Checks a --device value ("cpu", "cuda" or "cuda:N") and that a GPU is
/// there for it; throws InvalidArgument naming the flag and the value.
void validate_device(const std::string& device);

/// The checked device.
at::Device parse_device(const std::string& device);

}  // namespace wbary::training
