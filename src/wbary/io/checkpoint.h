// File: wbary/io/checkpoint.h
//
// A training checkpoint, as every wbary solver writes it: PATH holds the
// networks and optimiser states as named sub-archives, PATH.json the model's
// metadata plus the step, the elapsed time and the history. Loading refuses a
// checkpoint written for another problem or config (a resumed run must mean
// the same thing), except for the fields a resumed run may change.
//
// Example:
//   io::save_checkpoint(path, {{"f", [&](auto& a) { f->save(a); }}}, meta_with_step);
//   nlohmann::json meta = io::load_checkpoint(path, {{"f", [&](auto& a) { f->load(a); }}},
//                                             model.metadata(), kModelFormatVersion);
//   step_ = meta.at("step");
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "wbary/io/model_directory.h"

namespace wbary::io {

/// Writes PATH (the parts) and PATH.json (meta) atomically.
void save_checkpoint(const std::string& path, const std::vector<ArchiveWriter>& parts, const nlohmann::json& meta);

/// Config fields a resumed run may change: its length, logging, where it runs, its set-up time cap, its time budget.
inline const std::vector<std::string> kResumableFields = {"iterations", "log_every", "engine", "device",
                                                         "pretrain_seconds", "schedule_seconds"};

/// The schedule's fields only: what W2Map and RobustBarycenter checkpoints
/// let a resumed run change (their logging and device stay fixed).
inline const std::vector<std::string> kScheduleFields = {"iterations", "schedule_seconds"};

/// `config` (a JSON object) without `fields`: what a checkpoint and the run
/// resuming it must share.
nlohmann::json config_without(nlohmann::json config, const std::vector<std::string>& fields);

/// Reads PATH.json, checks its format version and that "method", "dim",
/// "count", "weights" and "config" (less kResumableFields) equal `current`'s,
/// then reads the parts of PATH. Returns the stored metadata (with "step",
/// "elapsed_seconds", "history"). IoError / InvalidArgument name the file
/// and the field that differs.
nlohmann::json load_checkpoint(const std::string& path, const std::vector<ArchiveReader>& parts,
                               nlohmann::json current, int format_version);

}  // namespace wbary::io
