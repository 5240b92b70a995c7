// File: wbary/io/json_file.h
//
// Reading the JSON files wbary writes (model.json, checkpoint metadata,
// dataset manifests) and the configs users pass with --config: one place for
// the "not valid JSON" message, so that every reader names the file alike.
//
// Example:
//   nlohmann::json meta = io::read_json(dir + "/model.json");
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace wbary::io {

/// Parses a whole file; throws IoError naming the path if it cannot be read
/// or is not valid JSON.
nlohmann::json read_json(const std::string& path);

}  // namespace wbary::io
