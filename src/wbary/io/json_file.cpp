#include "wbary/io/json_file.h"

#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

namespace wbary::io {

nlohmann::json read_json(const std::string& path) {
  try {
    return nlohmann::json::parse(read_text(path));
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": not valid JSON (" + e.what() + ")");
  }
}

}  // namespace wbary::io
