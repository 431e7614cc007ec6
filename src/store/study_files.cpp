#include "nascent/store/study_files.h"

#include <fmt/format.h>

#include <filesystem>
#include <string_view>
#include <vector>

#include "nascent/core/error.h"

namespace nascent {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSqliteScheme = "sqlite://";

/// A SQLite database and the files SQLite keeps beside it: its write-ahead log and shared
/// memory index (WAL mode), and its rollback journal (after a crash in another mode).
void add_sqlite_files(const fs::path& database, std::vector<fs::path>& files) {
  files.push_back(database);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    files.push_back(fs::path(database.string() + suffix));
  }
}

/// Whether `output` leads to `file`: the same path once symbolic links, `.` and `..` are
/// resolved, or, when both exist, the same file (a hard link).
bool same_file(const fs::path& output, const fs::path& file) {
  std::error_code error;
  const fs::path output_target = fs::weakly_canonical(output, error);
  if (error) return false;
  const fs::path file_target = fs::weakly_canonical(file, error);
  if (!error && output_target == file_target) return true;
  return fs::exists(output, error) && fs::exists(file, error) &&
         fs::equivalent(output, file, error);
}

}  // namespace

void check_study_output(const std::string& output, const std::string& option,
                        const std::string& study_dir, const std::string& storage_url) {
  std::error_code error;
  if (fs::is_directory(output, error)) {
    throw Error(fmt::format("{} {}: expected a file to write, found a directory", option, output));
  }

  std::vector<fs::path> study_files;
  if (!study_dir.empty()) {
    add_sqlite_files(fs::path(study_dir) / "study.db", study_files);
    for (const char* name : {"study.lock", "summary.json", "model.pt", "supernet.pt"}) {
      study_files.push_back(fs::path(study_dir) / name);
    }
  }
  if (storage_url.starts_with(kSqliteScheme) && storage_url.size() > kSqliteScheme.size()) {
    add_sqlite_files(fs::path(storage_url.substr(kSqliteScheme.size())), study_files);
  }

  for (const fs::path& file : study_files) {
    if (!same_file(output, file)) continue;
    throw Error(fmt::format(
        "{} {}: expected a file outside the study, found the study's own {}, which writing "
        "would destroy; choose another file",
        option, output, file.string()));
  }
}

}  // namespace nascent
