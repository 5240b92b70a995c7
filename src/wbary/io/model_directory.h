// File: wbary/io/model_directory.h
//
// A trained model on disk, as every wbary model is stored: DIR/model.pt holds
// the networks' parameters as named sub-archives (LibTorch serialisation), and
// DIR/model.json the format name and version, the config and the history. Both
// are written atomically; reading checks the format first, so that a wrong or
// newer directory is refused with a message naming the file, and maps every
// tensor to the requested device (a model trained on a GPU loads on a CPU-only
// machine).
//
// Example:
//   io::save_model_directory(dir, {{"f", [&](auto& a) { f->save(a); }}}, meta);
//   const auto meta = io::read_model_metadata(dir, {"wbary.w2_map", 1, "W2 map"});
//   io::load_model_parts(dir, {{"f", [&](auto& a) { model.f->load(a); }}}, device);
#pragma once

#include <torch/serialize/archive.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace wbary::io {

/// The format tag and version written to model.json, checked when a model is loaded.
struct ModelFormat {
  std::string name;         ///< the "format" field, e.g. "wbary.w2_map"
  int version = 1;          ///< the "format_version" this wbary reads and writes
  std::string description;  ///< for messages, e.g. "W2 map"
};

/// A part of model.pt: its name (empty = the top-level archive itself) and
/// what writes / reads it.
using ArchiveWriter = std::pair<std::string, std::function<void(torch::serialize::OutputArchive&)>>;
using ArchiveReader = std::pair<std::string, std::function<void(torch::serialize::InputArchive&)>>;

/// Creates DIR, then writes model.pt and model.json (meta, as given) atomically.
void save_model_directory(const std::string& dir, const std::vector<ArchiveWriter>& parts, const nlohmann::json& meta);

/// DIR/model.json, after checking its format name and version (IoError
/// naming the file, what it holds and what was expected).
nlohmann::json read_model_metadata(const std::string& dir, const ModelFormat& format);

/// Reads the parts of DIR/model.pt, tensors mapped to `device`; IoError naming
/// the file if it is missing, corrupt or lacks a part.
void load_model_parts(const std::string& dir, const std::vector<ArchiveReader>& parts, const at::Device& device);

}  // namespace wbary::io
