// File: wbary/io/atomic_file.h
//
// Every file wbary writes goes through here: the content is written to a
// temporary sibling, flushed, and renamed over the destination only when it
// is complete (the pattern of LevelDB's SetCurrentFile). A crash, Ctrl-C or
// error half-way through leaves the old file (or no file), never a truncated
// one.
//
// Example:
//   wbary::io::write_atomically("out/report.json", [&](const std::string& tmp) {
//     std::ofstream(tmp) << report.dump(2);
//   });
#pragma once

#include <functional>
#include <string>

namespace wbary::io {

/// Calls `writer(tmp_path)`, then renames tmp_path to `path`. If the writer
/// throws, the temporary file is removed and the exception propagates.
/// Throws IoError if the destination directory does not exist or the
/// rename fails.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string& tmp_path)>& writer);

/// Writes `content` to `path` atomically.
void write_text_atomically(const std::string& path, const std::string& content);

/// Reads a whole file; throws IoError naming the path if it cannot.
std::string read_text(const std::string& path);

}  // namespace wbary::io
