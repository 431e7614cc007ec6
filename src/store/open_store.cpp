// nascent::Store: opening a study by URL, and the calls forwarded to its back end.

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string_view>

#include "nascent/core/error.h"
#include "nascent/store/store.h"
#include "store/internal/postgres_store.h"
#include "store/internal/sqlite_store.h"

namespace nascent {

namespace {

constexpr std::string_view kSqliteScheme = "sqlite://";
constexpr std::string_view kPostgresSchemes[] = {"postgresql://", "postgres://"};

/// The study value that names the study a SQLite file holds.
constexpr const char* kStudyNameKey = "study_name";

/// Commands that only join a study (status, worker) must not leave a new database behind when
/// the path is mistyped, so the file is looked at before SQLite, which would create it.
void require_existing_sqlite_file(const std::string& url, const std::string& path) {
  std::error_code status_error;
  const auto status = std::filesystem::status(path, status_error);
  std::string found;
  if (!std::filesystem::exists(status)) {
    found = "no file";
  } else if (!std::filesystem::is_regular_file(status)) {
    found = "something that is not a file";
  } else if (std::filesystem::file_size(path, status_error) == 0) {
    found = "an empty file";
  } else {
    return;
  }
  throw StoreError(
      fmt::format("--storage {}: expected an existing nascent store, found {}", url, found));
}

/// A SQLite file holds one study, named when it was created; a second name is refused rather
/// than mixed into the same trials. The study of a search directory (DIR/study.db, written by
/// `nascent search --out DIR`) has no name and is refused under every name, before anything is
/// written: naming it would change a store that create-study then refuses, and status would
/// call it missing while create-study calls it taken.
void open_sqlite_study(Store& store, const std::string& study, StudyOpenMode mode) {
  store.in_transaction([&] {
    const auto stored = store.study_value(kStudyNameKey);
    if (stored && *stored == study) return;
    if (stored) {
      throw StoreError(
          fmt::format("{}: expected study '{}', found study '{}' (a SQLite file "
                      "holds one study; use another file for another study)",
                      store.path(), study, *stored));
    }
    if (store.study_value("fingerprint") || store.study_value("config_text") ||
        !store.trials().empty()) {
      const std::string directory = std::filesystem::path(store.path()).parent_path().string();
      throw StoreError(fmt::format(
          "{}: expected study '{}', found the unnamed study of a search directory (nascent "
          "search --out {}); read it with nascent status, pareto or report {}, and use another "
          "file for study '{}'",
          store.path(), study, directory.empty() ? "." : directory,
          directory.empty() ? "." : directory, study));
    }
    if (mode == StudyOpenMode::kExisting) {
      throw StoreError(
          fmt::format("{}: expected study '{}', found no study; create it first "
                      "with nascent create-study",
                      store.path(), study));
    }
    store.set_study_value(kStudyNameKey, study);
  });
}

/// A search run with --out DIR --storage URL keeps its trials in URL and records where in
/// DIR/summary.json; for such a directory, the words that point there ("" otherwise).
std::string where_the_trials_are(const std::string& study_dir) {
  std::ifstream file(std::filesystem::path(study_dir) / "summary.json");
  if (!file) return "";
  const nlohmann::json summary = nlohmann::json::parse(file, nullptr, false);
  if (summary.is_discarded() || !summary.contains("storage")) return "";
  const nlohmann::json& storage = summary["storage"];
  if (!storage.is_object() || !storage.value("url", nlohmann::json()).is_string() ||
      !storage.value("study", nlohmann::json()).is_string()) {
    return "";
  }
  return fmt::format(
      "; this study's trials are in --storage {} --study {} (give those instead "
      "of the directory)",
      storage["url"].get<std::string>(), storage["study"].get<std::string>());
}

}  // namespace

Store::Store(const std::string& path) : backend_(std::make_unique<SqliteStore>(path)) {}

Store::Store(std::unique_ptr<StoreBackend> backend) : backend_(std::move(backend)) {}

Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

namespace {

/// Where a store URL points: a SQLite file, or a PostgreSQL database.
struct StoreLocation {
  /// The SQLite file's path; empty for PostgreSQL.
  std::string sqlite_path;
};

/// Refuses an empty study name, and a URL of neither back end or a SQLite URL without a path.
StoreLocation locate_store(const std::string& url, const std::string& study) {
  if (study.empty()) {
    throw StoreError(fmt::format("{}: expected a study name, found an empty one", url));
  }
  if (url.starts_with(kSqliteScheme)) {
    const std::string path = url.substr(kSqliteScheme.size());
    if (path.empty()) {
      throw StoreError(fmt::format(
          "--storage {}: expected sqlite://PATH (sqlite:///abs/study.db), found no path", url));
    }
    return {path};
  }
  for (std::string_view scheme : kPostgresSchemes) {
    if (url.starts_with(scheme)) return {};
  }
  throw StoreError(fmt::format(
      "--storage: expected sqlite://PATH or postgresql://user@host:port/database, found '{}'",
      redact_url_password(url)));
}

}  // namespace

Store Store::open(const std::string& url, const std::string& study, StudyOpenMode mode) {
  const StoreLocation location = locate_store(url, study);
  if (location.sqlite_path.empty()) {
    return Store(std::make_unique<PostgresStore>(url, study, mode));
  }
  if (mode == StudyOpenMode::kExisting) require_existing_sqlite_file(url, location.sqlite_path);
  Store store(location.sqlite_path);
  open_sqlite_study(store, study, mode);
  return store;
}

std::optional<Store> Store::open_if_present(const std::string& url, const std::string& study) {
  const StoreLocation location = locate_store(url, study);
  if (location.sqlite_path.empty()) {
    if (!PostgresStore::has_study(url, study)) return std::nullopt;
  } else {
    // SQLite creates a missing file on opening; an empty one is what it leaves before a schema.
    std::error_code status_error;
    if (!std::filesystem::is_regular_file(location.sqlite_path, status_error) ||
        std::filesystem::file_size(location.sqlite_path, status_error) == 0) {
      return std::nullopt;
    }
  }
  return open(url, study, StudyOpenMode::kCreateIfMissing);
}

const std::string& Store::path() const { return backend_->path(); }

void Store::set_study_value(const std::string& key, const std::string& value) {
  backend_->set_study_value(key, value);
}

std::optional<std::string> Store::study_value(const std::string& key) const {
  return backend_->study_value(key);
}

Store Store::open_study_directory(const std::string& study_dir) {
  const std::filesystem::path db = std::filesystem::path(study_dir) / "study.db";
  if (!std::filesystem::is_regular_file(db)) {
    throw Error(fmt::format("{}: expected a study directory holding study.db, found none{}",
                            study_dir, where_the_trials_are(study_dir)));
  }
  if (std::filesystem::file_size(db) == 0) {
    throw Error(
        fmt::format("{}: expected a study's SQLite database, found an empty file", db.string()));
  }
  if (access(study_dir.c_str(), W_OK) != 0) {
    throw Error(fmt::format(
        "{}: expected a writable study directory (SQLite writes its lock files beside study.db "
        "even to read it), found it read-only; copy the study to a writable place to read it",
        study_dir));
  }
  return Store(db.string());
}

int64_t Store::begin_trial(const std::string& architecture, const std::string& architecture_hash,
                           double started_at, const std::string& worker, int64_t params,
                           int64_t flops) {
  return backend_->begin_trial(architecture, architecture_hash, started_at, worker, params, flops);
}

int64_t Store::insert_finished_trial(const TrialRecord& record) {
  return backend_->insert_finished_trial(record);
}

void Store::finish_trial(const TrialRecord& record) { backend_->finish_trial(record); }

bool Store::finish_claimed_trial(const TrialRecord& record) {
  return backend_->finish_claimed_trial(record);
}

void Store::add_epoch(int64_t trial_id, const EpochMetrics& metrics) {
  backend_->add_epoch(trial_id, metrics);
}

int64_t Store::interrupt_running_trials(double now) {
  return backend_->interrupt_running_trials(now);
}

void Store::in_transaction(const std::function<void()>& work) { backend_->in_transaction(work); }

double Store::now() const { return backend_->now(); }

std::optional<TrialRecord> Store::claim_queued_trial(const std::string& worker, double now) {
  return backend_->claim_queued_trial(worker, now);
}

bool Store::heartbeat(int64_t trial_id, int64_t attempt, double now) {
  return backend_->heartbeat(trial_id, attempt, now);
}

std::vector<TrialRecord> Store::requeue_stale_trials(double now, double timeout_s,
                                                     int64_t max_attempts) {
  return backend_->requeue_stale_trials(now, timeout_s, max_attempts);
}

std::vector<TrialRecord> Store::trials() const { return backend_->trials(); }

std::optional<TrialRecord> Store::trial(int64_t id) const { return backend_->trial(id); }

std::vector<EpochMetrics> Store::epochs(int64_t trial_id) const {
  return backend_->epochs(trial_id);
}

std::map<TrialState, int64_t> Store::count_by_state() const { return backend_->count_by_state(); }

std::string Store::integrity_check() const { return backend_->integrity_check(); }

}  // namespace nascent
