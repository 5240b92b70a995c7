#include "wbary/io/checkpoint.h"

#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/json_file.h"

namespace wbary::io {

void save_checkpoint(const std::string& path, const std::vector<ArchiveWriter>& parts, const nlohmann::json& meta) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, write] : parts) {
    torch::serialize::OutputArchive part;
    write(part);
    archive.write(name, part);
  }
  const std::string text = meta.dump();
  write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
  write_text_atomically(path + ".json", text);
}

nlohmann::json config_without(nlohmann::json config, const std::vector<std::string>& fields) {
  for (const auto& field : fields) config.erase(field);
  return config;
}

nlohmann::json load_checkpoint(const std::string& path, const std::vector<ArchiveReader>& parts,
                               nlohmann::json current, int format_version) {
  nlohmann::json meta = read_json(path + ".json");
  if (meta.value("format_version", -1) != format_version) {
    throw IoError(path + ".json: checkpoint format version " + std::to_string(meta.value("format_version", -1)) +
                  ", expected " + std::to_string(format_version));
  }
  nlohmann::json stored = meta;
  if (stored.contains("config")) stored["config"] = config_without(stored["config"], kResumableFields);
  if (current.contains("config")) current["config"] = config_without(current["config"], kResumableFields);
  // Checkpoints written before models recorded their method are NWB's.
  if (!stored.contains("method") && current.contains("method")) stored["method"] = "nwb";
  for (const char* key : {"method", "dim", "count", "weights", "config"}) {
    if (stored.value(key, nlohmann::json()) != current.value(key, nlohmann::json())) {
      throw InvalidArgument(path + ": checkpoint was written with a different " + std::string(key) + " (" +
                            stored.value(key, nlohmann::json()).dump() + ", now " +
                            current.value(key, nlohmann::json()).dump() + "); resume with the same marginals and flags");
    }
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    for (const auto& [name, read] : parts) {
      torch::serialize::InputArchive part;
      archive.read(name, part);
      read(part);
    }
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot load checkpoint (missing or corrupt): " + e.what_without_backtrace());
  }
  return meta;
}

}  // namespace wbary::io
