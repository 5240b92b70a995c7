#include "wbary/io/model_directory.h"

#include <filesystem>

#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/json_file.h"

namespace wbary::io {

void save_model_directory(const std::string& dir, const std::vector<ArchiveWriter>& parts, const nlohmann::json& meta) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create model directory: " + ec.message());
  torch::serialize::OutputArchive archive;
  for (const auto& [name, write] : parts) {
    if (name.empty()) {
      write(archive);
    } else {
      torch::serialize::OutputArchive part;
      write(part);
      archive.write(name, part);
    }
  }
  write_atomically(dir + "/model.pt", [&](const std::string& tmp) { archive.save_to(tmp); });
  write_text_atomically(dir + "/model.json", meta.dump(1));
}

nlohmann::json read_model_metadata(const std::string& dir, const ModelFormat& format) {
  const std::string path = dir + "/model.json";
  nlohmann::json meta = read_json(path);
  if (meta.value("format", "") != format.name) {
    throw IoError(path + ": not a wbary " + format.description + " model (\"format\" is " +
                  meta.value("format", std::string("missing")) + ", expected " + format.name + ")");
  }
  const int version = meta.value("format_version", -1);
  if (version != format.version) {
    throw IoError(path + ": " + format.description + " format version " + std::to_string(version) +
                  ", this wbary reads version " + std::to_string(format.version) + " (written by wbary " +
                  meta.value("wbary_version", std::string("?")) + ")");
  }
  return meta;
}

void load_model_parts(const std::string& dir, const std::vector<ArchiveReader>& parts, const at::Device& device) {
  const std::string path = dir + "/model.pt";
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    for (const auto& [name, read] : parts) {
      if (name.empty()) {
        read(archive);
      } else {
        torch::serialize::InputArchive part;
        archive.read(name, part);
        read(part);
      }
    }
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot load network weights (missing or corrupt file): " + e.what_without_backtrace());
  }
}

}  // namespace wbary::io
