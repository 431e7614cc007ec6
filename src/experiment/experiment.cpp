#include "nascent/experiment/experiment.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "experiment/internal/study_records.h"
#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"
#include "nascent/core/random.h"
#include "nascent/core/text.h"
#include "nascent/data/idx_reader.h"
#include "nascent/eval/final_model.h"
#include "nascent/eval/inference_cost.h"
#include "nascent/eval/pareto.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/experiment/cheap_evaluation.h"
#include "nascent/export/model_export.h"
#include "nascent/nn/cell_network.h"
#include "nascent/space/nasbench201.h"
#include "nascent/store/store.h"
#include "nascent/strategy/darts.h"
#include "nascent/strategy/lstm_controller.h"
#include "nascent/strategy/strategy.h"
#include "nascent/strategy/weight_ranking.h"

namespace nascent {

namespace {

namespace fs = std::filesystem;
using internal::counts_json;
using internal::longest_trained;
using internal::stored_double;
using internal::trial_epochs;
using internal::unix_now;

// Streams of the study seed, so that each consumer draws independently.
constexpr uint64_t kSplitStream = 1;
constexpr uint64_t kStrategyStream = 2;
constexpr uint64_t kFinalStream = 4;
constexpr uint64_t kSupernetStream = 5;

/// Times the process training an architecture may die before the architecture is recorded as
/// failed instead of trained again: an architecture that exhausts memory would otherwise kill
/// every resumed search the same way.
constexpr int64_t kMaxProcessDeaths = 2;

/// Proposals in a row that bring nothing new before the space counts as exhausted.
constexpr int64_t kMaxProposalsWithoutNew = 2000;

/// How JSON text is written: bytes that are not UTF-8 (in a file name, say) become U+FFFD
/// rather than an exception, which would lose the results of a search at its very end.
constexpr auto kReplaceInvalidUtf8 = nlohmann::json::error_handler_t::replace;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void info(const SearchEvents& events, const std::string& line) {
  if (events.on_info) events.on_info(line);
}

std::string store_path(const std::string& output_dir) {
  return (fs::path(output_dir) / "study.db").string();
}

/// A study directory holding a finished study's results (summary.json, model.pt) without a
/// usable study.db, the store that produced them, is refused: a search would start a new study
/// there and overwrite those results.
void check_results_have_their_store(const std::string& output_dir) {
  const fs::path db = store_path(output_dir);
  const bool store_usable = fs::is_regular_file(db) && fs::file_size(db) > 0;
  if (store_usable) return;
  for (const char* result : {"summary.json", "model.pt"}) {
    if (!fs::exists(fs::path(output_dir) / result)) continue;
    throw Error(fmt::format(
        "{}: expected study.db beside {} (the store of the study that wrote it), found {}; "
        "nascent will not start a new study over another study's results: restore study.db, or "
        "use another --out",
        output_dir, result, fs::exists(db) ? "an empty file" : "none"));
  }
}

/// The name of the study a search works on in --storage: --study, or else the config's.
std::string storage_study_name(const ExperimentConfig& config, const SearchRunOptions& options) {
  return options.study_name.empty() ? config.study : options.study_name;
}

/// The store of a search when it exists already (`output_dir`/study.db, or the study in the
/// store at options.storage_url), opened without creating anything; nullopt when it does not.
std::optional<Store> open_existing_search_store(const ExperimentConfig& config,
                                                const SearchRunOptions& options) {
  if (!options.storage_url.empty()) {
    return Store::open_if_present(options.storage_url, storage_study_name(config, options));
  }
  const std::string path = store_path(options.output_dir);
  std::error_code status_error;
  if (!fs::is_regular_file(path, status_error) || fs::file_size(path, status_error) == 0) {
    return std::nullopt;
  }
  return Store(path);
}

/// Refuses, before anything trains, a name the study would record in JSON that is not UTF-8:
/// the experiment file's (the config's own strings are checked as it is read), --storage and
/// --study.
void check_recorded_names_are_utf8(const ExperimentConfig& config,
                                   const SearchRunOptions& options) {
  struct RecordedName {
    std::string where;
    std::string what;
    std::string name;
  };
  const RecordedName names[] = {
      {escape_invalid_utf8(config.path), "an experiment file name", config.path},
      {"--storage " + escape_invalid_utf8(options.storage_url), "a store URL", options.storage_url},
      {"--study " + escape_invalid_utf8(options.study_name), "a study name", options.study_name}};
  for (const RecordedName& recorded : names) {
    const auto invalid = first_invalid_utf8(recorded.name);
    if (!invalid) continue;
    throw Error(fmt::format(
        "{}: expected {} in UTF-8 (the study records it in JSON), found byte {} (0x{:02X}), "
        "which is not UTF-8",
        recorded.where, recorded.what, *invalid + 1,
        static_cast<unsigned char>(recorded.name[*invalid])));
  }
}

/// The store of a new search, created.
Store create_search_store(const ExperimentConfig& config, const SearchRunOptions& options) {
  if (options.storage_url.empty()) return Store(store_path(options.output_dir));
  return Store::open(options.storage_url, storage_study_name(config, options),
                     StudyOpenMode::kCreateIfMissing);
}

/// Refuses a study this search may not work on: one created for workers (a search resuming it
/// would mark the workers' running trials interrupted), or one created with a different config,
/// naming the first setting that differs (fingerprints hold one setting per line).
void check_search_store(const Store& store, const ExperimentConfig& config,
                        const SearchRunOptions& options) {
  if (store.study_value("worker_settings")) {
    throw Error(
        fmt::format("{}: expected a study of nascent search, found study '{}' created "
                    "for workers (nascent create-study); run nascent worker on it, or "
                    "use another --study name",
                    store.path(), storage_study_name(config, options)));
  }
  const auto stored_fingerprint = store.study_value("fingerprint");
  const std::string fingerprint = search_fingerprint(config);
  if (stored_fingerprint && *stored_fingerprint != fingerprint) {
    throw Error(
        fmt::format("{}: expected the config this study was created with, found a "
                    "different one (first difference: {}); use a new "
                    "--out directory, or the original config",
                    store.path(), describe_first_difference(*stored_fingerprint, fingerprint)));
  }
}

/// With --storage the name chooses the study in the store, so a name other than the one the
/// directory's summary.json records points at other trials, not at a renamed study: refused,
/// since that search would overwrite the directory's summary.json and model.pt with another
/// study's.
void check_directory_names_this_study(const ExperimentConfig& config,
                                      const SearchRunOptions& options) {
  if (options.storage_url.empty()) return;
  std::ifstream file(fs::path(options.output_dir) / "summary.json");
  if (!file) return;
  const nlohmann::json summary = nlohmann::json::parse(file, nullptr, false);
  if (!summary.is_object() || !summary.contains("storage") || !summary["storage"].is_object()) {
    return;
  }
  const nlohmann::json recorded = summary["storage"].value("study", nlohmann::json());
  const std::string study = storage_study_name(config, options);
  if (!recorded.is_string() || recorded.get<std::string>() == study) return;
  throw Error(fmt::format(
      "--out {}: expected study '{}', which its summary.json records, found study '{}' (from {}); "
      "in --storage a name chooses the study, so resume with --study {}, or use another --out",
      options.output_dir, recorded.get<std::string>(), study,
      options.study_name.empty() ? "the config's study:" : "--study", recorded.get<std::string>()));
}

/// The name a study in a study directory is shown under: the `study:` of the config it was
/// created with. There the name chooses no data, so a changed `study:` leaves the name as it
/// was, as it leaves the trials (the config's name for a new study, or for a stored config
/// this version cannot read).
std::string directory_study_name(const Store& store, const ExperimentConfig& config) {
  const auto config_text = store.study_value("config_text");
  if (!config_text) return config.study;
  try {
    return parse_experiment_config(*config_text, "stored config").study;
  } catch (const Error&) {
    return config.study;
  }
}

/// The data of a study: the training file split into search-train and validation, the full
/// training file for the final model, and the test file.
struct StudyData {
  DatasetFiles files;
  ImageDataset search_train;
  ImageDataset validation;
  ImageShape input;
  int64_t num_classes = 0;
};

StudyData load_study_data(const ExperimentConfig& config) {
  StudyData data;
  try {
    data.files = read_idx_directory(config.data.directory, config.data.debian_package);
  } catch (const DataError& error) {
    throw ConfigError(config.path, config.data.directory_line, "data.directory", error.what());
  }
  const ImageDataset& train = data.files.train;
  data.input = {train.channels, train.height, train.width};
  data.num_classes = std::max(train.num_classes, data.files.test.num_classes);

  // Labels must be 0..K-1 with every class present: a stray label would silently add classes.
  std::vector<int64_t> per_class(static_cast<size_t>(data.num_classes), 0);
  for (int64_t label : train.labels) ++per_class[static_cast<size_t>(label)];
  // A test label of a class without training examples is the test file's fault as often as the
  // training file's: name it, rather than only the training labels.
  const int64_t largest_train_label =
      train.labels.empty() ? -1 : *std::max_element(train.labels.begin(), train.labels.end());
  for (int64_t label : data.files.test.labels) {
    if (per_class[static_cast<size_t>(label)] > 0) continue;
    throw DataError(fmt::format(
        "{}: expected test labels (t10k-labels-idx1-ubyte) of classes with training examples, "
        "found test label {}, whose class has no training example (the largest training label "
        "is {})",
        config.data.directory, label, largest_train_label));
  }
  for (int64_t label = 0; label < data.num_classes; ++label) {
    if (per_class[static_cast<size_t>(label)] == 0) {
      throw DataError(fmt::format(
          "{}: expected training labels 0..{} with every class present (the largest label is "
          "{}), found no example of class {}",
          config.data.directory, data.num_classes - 1, data.num_classes - 1, label));
    }
  }

  // The splits are stratified by class: below one image per class some class would be missing
  // from them, and the accuracy on them would say little.
  if (config.data.validation_size < data.num_classes) {
    throw ConfigError(
        config.path, config.data.validation_size_line, "data.validation_size",
        fmt::format("expected at least one image per class, {} for the {} classes of {}, found {}",
                    data.num_classes, data.num_classes, config.data.directory,
                    config.data.validation_size));
  }
  if (config.data.search_train_size > 0 && config.data.search_train_size < data.num_classes) {
    throw ConfigError(
        config.path, config.data.search_train_size_line, "data.search_train_size",
        fmt::format("expected 0 (all) or at least one image per class, {} for the {} classes of "
                    "{}, found {}",
                    data.num_classes, data.num_classes, config.data.directory,
                    config.data.search_train_size));
  }
  // What validation leaves must still hold an image of every class to train on (found by a
  // fresh-user test: 59,995 of 60,000 left 5 images for 10 classes, and the search ran).
  if (config.data.validation_size > train.size() - data.num_classes) {
    throw ConfigError(
        config.path, config.data.validation_size_line, "data.validation_size",
        fmt::format("expected at most {} (the {} training examples of {} less one per class to "
                    "train on), found {}",
                    train.size() - data.num_classes, train.size(), config.data.directory,
                    config.data.validation_size));
  }
  const Split split = stratified_split(train.labels, data.num_classes, config.data.validation_size,
                                       derive_seed(config.seed, kSplitStream));
  if (config.data.search_train_size > static_cast<int64_t>(split.train.size())) {
    throw ConfigError(config.path, config.data.search_train_size_line, "data.search_train_size",
                      fmt::format("expected at most the {} training examples left after "
                                  "validation, found {}",
                                  split.train.size(), config.data.search_train_size));
  }
  std::vector<int64_t> search_indices = split.train;
  if (config.data.search_train_size > 0) {
    search_indices = stratified_subset(split.train, train.labels, data.num_classes,
                                       config.data.search_train_size,
                                       derive_seed(config.seed, kSplitStream + 100));
  }
  data.search_train = train.subset(search_indices);

  // The low-fidelity subset too (and DARTS halves the images between its two kinds of weights).
  const auto fidelity_images = static_cast<int64_t>(
      std::llround(config.fidelity.data_fraction * static_cast<double>(search_indices.size())));
  if (fidelity_images < data.num_classes) {
    throw ConfigError(
        config.path, config.fidelity.data_fraction_line, "fidelity.data_fraction",
        fmt::format("expected a fraction that keeps at least one image per class, {} of the {} "
                    "search-training images, found {} ({} images)",
                    data.num_classes, search_indices.size(),
                    format_double(config.fidelity.data_fraction), fidelity_images));
  }
  if (is_weight_sharing(config.strategy.name) &&
      static_cast<int64_t>(search_indices.size()) < 2 * data.num_classes) {
    throw ConfigError(
        config.path, config.data.search_train_size_line, "data.search_train_size",
        fmt::format("expected at least two images per class for {} ({}: one half trains the "
                    "supernet's weights, the other its architecture weights), found {}",
                    config.strategy.name, 2 * data.num_classes, search_indices.size()));
  }
  data.validation = train.subset(split.validation);
  return data;
}

/// What the strategy is told about a finished trial: the scalar objective (the accuracy, or
/// below every feasible trial when a constraint is broken), the costs of every objective and
/// the constraint violation, for multi-objective strategies.
Observation observe(const ExperimentConfig& config, const TrialRecord& trial) {
  Observation observation{trial.state, trial.validation_accuracy, 0, {}, 0.0};
  if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) {
    observation.objective = std::nan("");
    return observation;
  }
  const TrialMetrics metrics = trial_metrics(trial);
  observation.objective = scalar_objective(metrics, config.objectives);
  observation.costs = objective_costs(metrics, config.objectives);
  observation.constraint_violation = constraint_violation(metrics, config.objectives);
  return observation;
}

/// Latency and memory of an architecture, measured only when an objective or constraint uses
/// them (timing costs search time). Empty when nothing is needed.
nlohmann::json measured_inference_metrics(const ExperimentConfig& config,
                                          const Architecture& architecture, const ImageShape& input,
                                          int64_t num_classes) {
  const ObjectivesConfig& objectives = config.objectives;
  InferenceCostOptions options;
  options.latency = objectives.uses("latency_ms");
  options.batch_latency = objectives.uses("batch_latency_ms");
  options.memory = objectives.uses("memory_mb");
  options.batch_size = objectives.latency_batch_size;
  options.warmup = objectives.latency_warmup;
  options.repeats = objectives.latency_repeats;
  nlohmann::json metrics = nlohmann::json::object();
  if (!options.latency && !options.batch_latency && !options.memory) return metrics;

  const InferenceCost cost =
      measure_inference_cost(config.network, architecture, input, num_classes, options);
  if (options.latency) metrics["latency_ms"] = cost.latency_ms;
  if (options.batch_latency) {
    metrics["batch_latency_ms"] = cost.batch_latency_ms;
    metrics["latency_batch_size"] = options.batch_size;
  }
  if (options.memory) metrics["memory_mb"] = cost.memory_mb;
  return metrics;
}

bool counts_against_budget(TrialState state) {
  return state == TrialState::kComplete || state == TrialState::kFailed ||
         state == TrialState::kPruned;
}

/// The key of the study's cache: the architecture's hash, with the epochs appended for a
/// lower-fidelity evaluation (so existing studies keep their keys).
std::string outcome_key(const std::string& hash, int64_t epochs, int64_t full_epochs) {
  return epochs == full_epochs ? hash : fmt::format("{}@{}", hash, epochs);
}

void write_json_file(const std::string& path, const nlohmann::json& json) {
  const std::string temporary = path + ".partial";
  {
    std::ofstream file(temporary);
    if (!file) throw Error(fmt::format("cannot write {}: expected a writable directory", path));
    file << json.dump(2, ' ', false, kReplaceInvalidUtf8) << "\n";
  }
  fs::rename(temporary, path);
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream file(path);
  if (!file)
    throw Error(fmt::format("{}: expected a file written by nascent search, found none", path));
  try {
    return nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    throw Error(fmt::format("{}: expected JSON, found a parse error: {}", path, error.what()));
  }
}

/// Whether `descriptor` is still the file at `path`: a refused search removes the lock file it
/// created, so a lock taken on a file that was removed meanwhile guards nothing.
bool is_file_at(int descriptor, const std::string& path) {
  struct stat opened {};
  struct stat named {};
  return fstat(descriptor, &opened) == 0 && stat(path.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

/// An exclusive lock on a study directory for the life of one search process. The kernel
/// releases it when the process dies, however it dies, so a stale lock never blocks a resume.
class StudyLock {
 public:
  explicit StudyLock(const std::string& output_dir) : path_(internal::study_lock_path(output_dir)) {
    while (true) {
      created_ = !fs::exists(path_);
      descriptor_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (descriptor_ < 0) {
        throw Error(
            fmt::format("{}: expected a writable study directory, found that the lock file "
                        "cannot be created",
                        output_dir));
      }
      if (flock(descriptor_, LOCK_EX | LOCK_NB) != 0) {
        char owner[32] = {};
        const ssize_t length = pread(descriptor_, owner, sizeof(owner) - 1, 0);
        close(descriptor_);
        throw Error(
            fmt::format("{}: expected no other nascent search on this study, found one "
                        "running (pid {}); wait for it or use another --out",
                        output_dir, length > 0 ? std::string(owner, length) : "unknown"));
      }
      if (is_file_at(descriptor_, path_)) break;
      close(descriptor_);
    }
    const std::string pid = std::to_string(getpid());
    if (ftruncate(descriptor_, 0) == 0) {
      [[maybe_unused]] const ssize_t written = pwrite(descriptor_, pid.data(), pid.size(), 0);
    }
  }
  ~StudyLock() { close(descriptor_); }
  StudyLock(const StudyLock&) = delete;
  StudyLock& operator=(const StudyLock&) = delete;

  /// Removes the lock file if this search created it, for a search refused after taking the
  /// lock. Removed while still held, so that no other search locks it in between.
  void remove_if_created() const {
    if (created_) unlink(path_.c_str());
  }

 private:
  std::string path_;
  int descriptor_ = -1;
  bool created_ = false;
};

}  // namespace

namespace {

/// Refuses an output directory that could not be created or written, without creating it, so
/// that a bad --out fails before the dataset is loaded and a missing dataset still fails before
/// a study directory appears. A new directory is judged by its nearest existing ancestor.
void check_output_directory_possible(const std::string& output_dir) {
  fs::path existing = output_dir;
  std::error_code status_error;  // unreadable components count as missing; mkdir names them
  while (!existing.empty() && !fs::exists(existing, status_error)) {
    existing = existing.parent_path();
  }
  if (existing.empty()) existing = ".";
  const auto refuse = [&](const std::string& found) {
    return Error(
        fmt::format("--out {}: expected a directory nascent can create and write, found {}",
                    output_dir, found));
  };
  if (!fs::is_directory(existing, status_error)) {
    throw refuse(fmt::format("that {} is not a directory", existing.string()));
  }
  if (access(existing.c_str(), W_OK | X_OK) != 0) {
    throw refuse(
        fmt::format("that {} cannot be written: {}", existing.string(), std::strerror(errno)));
  }
}

/// The directories that creating `output_dir` would make, deepest first.
std::vector<fs::path> missing_directories(const std::string& output_dir) {
  std::vector<fs::path> missing;
  std::error_code status_error;
  for (fs::path directory = fs::path(output_dir).lexically_normal();
       !directory.empty() && !fs::exists(directory, status_error);
       directory = directory.parent_path()) {
    missing.push_back(directory);
  }
  return missing;
}

/// Removes the directories a refused search made, those it left empty, so that a refusal
/// leaves the file system as it was.
void remove_if_empty(const std::vector<fs::path>& directories) {
  std::error_code ignored;  // a directory that cannot be removed is left, as it would have been
  for (const fs::path& directory : directories) {
    if (!fs::is_empty(directory, ignored) || ignored) return;
    fs::remove(directory, ignored);
  }
}

void prepare_output_directory(const std::string& output_dir) {
  if (fs::exists(output_dir) && !fs::is_directory(output_dir)) {
    throw Error(fmt::format("--out {}: expected a directory, found a file", output_dir));
  }
  std::error_code directory_error;
  fs::create_directories(output_dir, directory_error);
  if (directory_error || !fs::is_directory(output_dir)) {
    throw Error(
        fmt::format("--out {}: expected a directory nascent can create and write, found "
                    "an error: {}",
                    output_dir, directory_error.message()));
  }
}

/// Records the config of a new study, and the data and budget of this run.
void record_study(Store& store, const ExperimentConfig& config, const StudyData& data) {
  if (!store.study_value("fingerprint")) {
    store.set_study_value("fingerprint", search_fingerprint(config));
    store.set_study_value("config_text", config.text);
    store.set_study_value("config_path", config.path);
    store.set_study_value("created_at", fmt::format("{}", unix_now()));
  }
  store.set_study_value("data_directory", config.data.directory);
  store.set_study_value("num_classes", std::to_string(data.num_classes));
  store.set_study_value("input_shape", fmt::format("{} {} {}", data.input.channels,
                                                   data.input.height, data.input.width));
  store.set_study_value("max_trials", std::to_string(config.budget.max_trials));
  store.set_study_value("time_limit_min", fmt::format("{}", config.budget.time_limit_min));
}

using OutcomeCache = std::unordered_map<std::string, Observation>;

/// The known outcome of training an architecture for `epochs`, or end(). An invalid
/// architecture is invalid at every fidelity.
OutcomeCache::const_iterator find_outcome(const OutcomeCache& seen, const std::string& hash,
                                          int64_t epochs, int64_t full_epochs) {
  const auto found = seen.find(outcome_key(hash, epochs, full_epochs));
  if (found != seen.end()) return found;
  const auto invalid = seen.find(hash);
  if (invalid != seen.end() && invalid->second.state == TrialState::kInvalid) return invalid;
  return seen.end();
}

/// What the search loop knows: the strategy, every architecture tried, what must run again and
/// how much of the budget is spent.
struct SearchState {
  std::unique_ptr<Strategy> strategy;
  OutcomeCache seen;
  /// Proposals to evaluate before asking the strategy again, last first.
  std::vector<Proposal> rerun;
  int64_t counted = 0;
  /// The data's image shape and classes, for measuring latency and memory.
  ImageShape input;
  int64_t num_classes = 0;
  /// Per architecture hash, how often the process training it died (trials found still running
  /// by a later run).
  std::map<std::string, int64_t> process_deaths;
};

/// Rebuilds the strategy's knowledge and the cache from the stored history (empty for a new
/// study).
SearchState replay_history(const ExperimentConfig& config, const std::vector<TrialRecord>& history,
                           std::unique_ptr<Strategy> strategy) {
  SearchState state;
  state.strategy = std::move(strategy);
  const int64_t full_epochs = config.train.epochs;
  std::vector<std::pair<Architecture, Observation>> results;
  for (const auto& trial : history) {
    if (trial.state == TrialState::kInterrupted) continue;
    const int64_t epochs = trial_epochs(trial, full_epochs);
    Observation observation = observe(config, trial);
    observation.fidelity = epochs;
    state.seen[outcome_key(trial.architecture_hash, epochs, full_epochs)] = observation;
    results.emplace_back(config.space.parse(trial.architecture), observation);
    if (counts_against_budget(trial.state)) ++state.counted;
  }

  if (is_multi_fidelity(config.strategy.name)) {
    // A bracket schedule lives in the order of proposals, so the strategy is run again from
    // its seed, answered from the store, up to its first proposal the store cannot answer (the
    // interrupted trial, or the next new one). The same seed and answers give the same
    // proposals.
    const auto limit = static_cast<int64_t>(10 * results.size() + 100);
    for (int64_t step = 0; step < limit; ++step) {
      auto proposal = state.strategy->propose();
      if (!proposal) break;
      const int64_t epochs = proposal->fidelity > 0 ? proposal->fidelity : full_epochs;
      const auto cached =
          find_outcome(state.seen, proposal->architecture.hash_hex(), epochs, full_epochs);
      if (cached == state.seen.end()) {
        state.rerun.push_back(std::move(*proposal));
        break;
      }
      Observation observation = cached->second;
      observation.fidelity = proposal->fidelity;
      state.strategy->tell(proposal->architecture, observation);
    }
    // Results it did not reach again (another schedule's) are still worth knowing.
    for (const auto& [architecture, observation] : results) {
      state.strategy->tell(architecture, observation);
    }
    return state;
  }

  for (const auto& [architecture, observation] : results) {
    state.strategy->tell(architecture, observation);
  }
  for (const auto& trial : history) {
    if (trial.state == TrialState::kInterrupted && !state.seen.count(trial.architecture_hash)) {
      state.rerun.push_back(Proposal{config.space.parse(trial.architecture), 0});
    }
  }
  return state;
}

/// Wall-clock accounting over every run of a study, stored after each trial so that a run
/// that is killed still counts.
struct StudyClock {
  std::chrono::steady_clock::time_point run_start;
  double study_before = 0.0;
  double search_before = 0.0;
  /// The search's seconds when this run's search loop ended, so that the final retraining is
  /// not charged to the search (and to its time limit when the study is resumed).
  std::optional<double> search_stopped_at;

  double study_elapsed() const { return study_before + seconds_since(run_start); }
  double search_elapsed() const {
    return search_stopped_at ? *search_stopped_at : search_before + seconds_since(run_start);
  }
  void stop_search() { search_stopped_at = search_elapsed(); }

  /// Stores the clock, when it was stored, and whether the search's part still runs, so that
  /// `nascent status` can add the seconds since then while the search holds the study. One
  /// transaction: one commit rather than four.
  void save(Store& store) const {
    store.in_transaction([&] { write(store); });
  }

  /// save() within a transaction the caller holds.
  void write(Store& store) const {
    store.set_study_value("search_elapsed_s", fmt::format("{}", search_elapsed()));
    store.set_study_value("elapsed_s", fmt::format("{}", study_elapsed()));
    store.set_study_value("clock_saved_at", fmt::format("{}", unix_now()));
    store.set_study_value("search_clock_running", search_stopped_at ? "0" : "1");
  }
};

/// Why the budget says stop, or empty to go on.
std::string budget_stop_reason(const ExperimentConfig& config, const SearchState& state,
                               const StudyClock& clock, const std::optional<int64_t>& space_size,
                               int64_t proposals_without_new) {
  if (config.budget.max_trials > 0 && state.counted >= config.budget.max_trials) {
    return "max_trials";
  }
  const double time_limit_s = config.budget.time_limit_min * 60.0;
  if (time_limit_s > 0 && clock.search_elapsed() >= time_limit_s) return "time_limit";
  // A multi-fidelity strategy may see an architecture at several fidelities; it says itself
  // when the space has run out.
  if (space_size && !is_multi_fidelity(config.strategy.name) &&
      static_cast<int64_t>(state.seen.size()) >= *space_size) {
    return "exhausted";
  }
  if (proposals_without_new >= kMaxProposalsWithoutNew) return "exhausted";
  return "";
}

/// Trains one valid architecture as a new trial and stores everything about it.
TrialRecord run_trial(const ExperimentConfig& config, const Architecture& architecture,
                      int64_t epochs, const ArchitectureCheck& check, Evaluator& evaluator,
                      Store& store, const SearchEvents& events, const SearchState& state,
                      const StudyClock& clock) {
  TrialRecord record;
  if (epochs != config.train.epochs) record.result_json = nlohmann::json{{"epochs", epochs}}.dump();
  record.architecture = config.space.format(architecture);
  record.architecture_hash = architecture.hash_hex();
  record.params = check.params;
  record.flops = check.flops;
  record.started_at = unix_now();
  record.id = store.begin_trial(record.architecture, record.architecture_hash, record.started_at,
                                /*worker=*/"", record.params, record.flops);

  TrialContext context;
  context.trial_id = record.id;
  context.seed = derive_seed(config.seed, architecture.hash());
  context.epochs = epochs;
  context.on_epoch = [&](const EpochMetrics& metrics) {
    // The time spent so far counts even if the process is killed before the trial ends; one
    // transaction, so that no stored epoch is missing from the stored clock.
    store.in_transaction([&] {
      store.add_epoch(record.id, metrics);
      clock.write(store);
    });
  };
  context.on_step = events.on_step;
  // Pruning sees the trials stored before this one, so a resumed study decides the same.
  std::string pruning_reason;
  if (config.pruning.enabled()) {
    context.should_prune =
        [&config, &pruning_reason, curve = std::vector<double>(),
         history = pruning_history(store, record.id)](const EpochMetrics& metrics) mutable {
          curve.push_back(metrics.validation_accuracy);
          const PruningDecision decision = decide_pruning(config.pruning, curve, history);
          pruning_reason = decision.reason;
          return decision.prune;
        };
  }
  Evaluation evaluation;
  try {
    // Inference cost first: it does not depend on the training, and survives a failed one.
    const nlohmann::json inference =
        measured_inference_metrics(config, architecture, state.input, state.num_classes);
    if (!inference.empty()) {
      nlohmann::json result = nlohmann::json::parse(record.result_json);
      result.update(inference);
      record.result_json = result.dump(-1, ' ', false, kReplaceInvalidUtf8);
    }
    evaluation = evaluator.evaluate(architecture, context);
  } catch (const std::exception& error) {
    // One broken candidate must not end the search; the trial records why.
    std::string message = error.what();
    evaluation.state = TrialState::kFailed;
    evaluation.validation_accuracy = std::nan("");
    evaluation.error = "evaluation error: " + message.substr(0, message.find('\n'));
  }

  if (evaluation.state == TrialState::kPruned && evaluation.error.empty()) {
    evaluation.error = pruning_reason;
  }
  record.state = evaluation.state;
  record.validation_accuracy = evaluation.validation_accuracy;
  record.train_seconds = evaluation.train_seconds;
  record.finished_at = unix_now();
  record.error = evaluation.error;
  store.finish_trial(record);
  return record;
}

/// The search loop: ask, skip what is known, store what is invalid, train the rest, tell.
/// Returns why it stopped.
std::string search_loop(const ExperimentConfig& config, const SearchRunOptions& options,
                        const SearchEvents& events, Evaluator& evaluator, Store& store,
                        SearchState& state, const StudyClock& clock) {
  const auto space_size = config.space.count(100000);
  int64_t proposals_without_new = 0;
  while (true) {
    if (stop_requested()) {
      clock.save(store);
      throw Error(fmt::format("interrupted between trials; run the same command to resume {}",
                              options.output_dir));
    }
    const std::string stop_reason =
        budget_stop_reason(config, state, clock, space_size, proposals_without_new);
    if (!stop_reason.empty()) return stop_reason;

    // Next candidate: interrupted trials first, then the strategy.
    std::optional<Proposal> proposal;
    if (!state.rerun.empty()) {
      proposal = state.rerun.back();
      state.rerun.pop_back();
    } else {
      proposal = state.strategy->propose();
    }
    if (!proposal) return "exhausted";
    const Architecture& architecture = proposal->architecture;
    const std::string hash = architecture.hash_hex();
    const int64_t full_epochs = config.train.epochs;
    const int64_t epochs = proposal->fidelity > 0 ? proposal->fidelity : full_epochs;
    const std::string key = outcome_key(hash, epochs, full_epochs);

    // Never train an architecture twice for the same epochs: answer from the cache.
    if (const auto cached = find_outcome(state.seen, hash, epochs, full_epochs);
        cached != state.seen.end()) {
      Observation observation = cached->second;
      observation.fidelity = proposal->fidelity;
      state.strategy->tell(architecture, observation);
      ++proposals_without_new;
      continue;
    }

    // Shape inference: an impossible architecture is stored as INVALID and not charged.
    const ArchitectureCheck check = evaluator.check(architecture);
    if (!check.valid) {
      TrialRecord record;
      record.architecture = config.space.format(architecture);
      record.architecture_hash = hash;
      record.state = TrialState::kInvalid;
      record.started_at = record.finished_at = unix_now();
      record.error = check.reason;
      store.insert_finished_trial(record);
      state.seen[hash] = Observation{TrialState::kInvalid, std::nan(""), 0, {}, 0.0};
      state.strategy->tell(
          architecture,
          Observation{TrialState::kInvalid, std::nan(""), proposal->fidelity, {}, 0.0});
      ++proposals_without_new;
      continue;
    }
    proposals_without_new = 0;

    // An architecture whose training killed the process twice is not trained a third time.
    if (const auto deaths = state.process_deaths.find(hash);
        deaths != state.process_deaths.end() && deaths->second >= kMaxProcessDeaths) {
      TrialRecord record;
      record.architecture = config.space.format(architecture);
      record.architecture_hash = hash;
      record.params = check.params;
      record.flops = check.flops;
      record.state = TrialState::kFailed;
      record.started_at = record.finished_at = unix_now();
      record.validation_accuracy = std::nan("");
      record.error = fmt::format(
          "not trained again: the process training it died {} times (out of memory? the system "
          "log says; the kernel's OOM killer leaves no other trace)",
          deaths->second);
      record.id = store.insert_finished_trial(record);
      Observation observation = observe(config, record);
      observation.fidelity = proposal->fidelity;
      state.seen[key] = observation;
      state.strategy->tell(architecture, observation);
      ++state.counted;
      if (events.on_trial) events.on_trial(record, check.short_description);
      continue;
    }

    const TrialRecord record =
        run_trial(config, architecture, epochs, check, evaluator, store, events, state, clock);
    clock.save(store);
    if (record.state == TrialState::kInterrupted) {
      throw Error(
          fmt::format("interrupted: trial {} is recorded as interrupted and will run "
                      "again; run the same command to resume {}",
                      record.id, options.output_dir));
    }
    Observation observation = observe(config, record);
    observation.fidelity = proposal->fidelity;
    state.seen[key] = observation;
    state.strategy->tell(architecture, observation);
    ++state.counted;
    if (events.on_trial) {
      events.on_trial(
          record, epochs == full_epochs
                      ? check.short_description
                      : fmt::format("{} ({})", check.short_description, count_of(epochs, "epoch")));
    }
  }
}

/// Retrains the best architecture, tests it once and saves it, or reuses the stored result
/// when the same best was already retrained with the same final settings.
nlohmann::json train_or_reuse_final_model(const ExperimentConfig& config,
                                          const SearchRunOptions& options,
                                          const SearchEvents& events, const StudyData& data,
                                          const TrialRecord& best, const Architecture& architecture,
                                          Store& store) {
  const std::string checkpoint = (fs::path(options.output_dir) / "model.pt").string();
  const std::string final_key =
      best.architecture_hash + " " + describe_train_options(config.final.train);
  const auto stored_final = store.study_value("final_result");
  if (stored_final && store.study_value("final_key") == final_key && fs::exists(checkpoint)) {
    info(events, "final model already trained for this best architecture; reusing it");
    return nlohmann::json::parse(*stored_final);
  }
  if (options.skip_final) return nlohmann::json::object();

  info(events, fmt::format("final: retraining trial {} on {} images for {} epoch(s)", best.id,
                           data.files.train.size(), config.final.train.epochs));
  const auto final_start = std::chrono::steady_clock::now();
  const FinalModelReport report = train_final_model(
      config.network, architecture, data.files.train, data.files.test, config.final.train,
      derive_seed(config.seed, kFinalStream), checkpoint, events.on_final_epoch, events.on_step);
  if (!report.error.empty()) throw Error(report.error);

  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& epoch : report.epochs) {
    epochs.push_back({{"epoch", epoch.epoch},
                      {"train_loss", epoch.train_loss},
                      {"train_accuracy", epoch.train_accuracy},
                      {"seconds", epoch.seconds}});
  }
  const nlohmann::json final_json = {{"test_accuracy", report.test_accuracy},
                                     {"test_loss", report.test_loss},
                                     {"latency_ms", report.latency_ms},
                                     {"final_epochs", config.final.train.epochs},
                                     {"final_train_seconds", report.train_seconds},
                                     {"final_elapsed_s", seconds_since(final_start)},
                                     {"final_epoch_metrics", epochs},
                                     {"checkpoint", "model.pt"}};
  store.set_study_value("final_result", final_json.dump(-1, ' ', false, kReplaceInvalidUtf8));
  store.set_study_value("final_key", final_key);
  return final_json;
}

nlohmann::json search_summary(const ExperimentConfig& config, const StudyData& data,
                              const Store& store, const std::string& stop_reason,
                              const StudyClock& clock) {
  nlohmann::json summary;
  summary["config"] = config.path;
  summary["seed"] = config.seed;
  summary["strategy"] = config.strategy.name;
  summary["budget"] = {{"max_trials", config.budget.max_trials},
                       {"time_limit_min", config.budget.time_limit_min}};
  summary["stop_reason"] = stop_reason;
  summary["trials"] = counts_json(store);
  summary["data"] = {{"dataset", config.data.dataset},
                     {"directory", config.data.directory},
                     {"input_shape", {data.input.channels, data.input.height, data.input.width}},
                     {"num_classes", data.num_classes},
                     {"search_train_size", data.search_train.size()},
                     {"validation_size", data.validation.size()},
                     {"final_train_size", data.files.train.size()},
                     {"test_size", data.files.test.size()}};
  summary["space"] = {{"family", config.network.family},
                      {"cells_per_stage", config.network.cell.cells_per_stage},
                      {"channels", config.network.cell.channels}};
  summary["search_elapsed_s"] = clock.search_elapsed();
  const nlohmann::json cheap_evaluation = cheap_evaluation_json(config);
  for (const auto& [key, value] : cheap_evaluation.items()) summary[key] = value;
  summary["best"] = nullptr;
  return summary;
}

}  // namespace

/// The most probable operation of each edge, in the cell notation's short form ("1|s3|-3p").
std::string most_probable_cell(const ExperimentConfig& config,
                               const DecisionProbabilities& probabilities) {
  WeightRanking ranking(config.space, probabilities, "darts");
  return describe_cell(*ranking.ask());
}

/// DARTS: trains the supernet, or reads the architecture weights of one trained by an earlier
/// run, and ranks the architectures by them. The supernet trains on two stratified halves of the
/// search-training images, its weights on one and its architecture weights on the other, as
/// DARTS splits its training data; the validation images stay unseen until the trials. Its
/// epochs run on the search clock, and a checkpoint after each one lets a killed run resume.
std::unique_ptr<Strategy> darts_strategy(const ExperimentConfig& config,
                                         const SearchRunOptions& options,
                                         const SearchEvents& events, const StudyData& data,
                                         Store& store, const StudyClock& clock) {
  const std::string checkpoint = (fs::path(options.output_dir) / "supernet.pt").string();
  DecisionProbabilities probabilities;
  if (const auto stored = store.study_value("darts_probabilities")) {
    probabilities = nlohmann::json::parse(*stored).get<DecisionProbabilities>();
    info(events, fmt::format("supernet trained by an earlier run; most probable cell {}",
                             most_probable_cell(config, probabilities)));
    return std::make_unique<WeightRanking>(config.space, std::move(probabilities), "darts");
  }

  const ImageDataset& images = data.search_train;
  const Split halves = stratified_split(images.labels, data.num_classes, images.size() / 2,
                                        derive_seed(config.seed, kSupernetStream));
  DartsOptions darts;
  darts.epochs = config.strategy.supernet_epochs;
  darts.architecture_learning_rate = config.strategy.architecture_learning_rate;
  darts.architecture_weight_decay = config.strategy.architecture_weight_decay;
  darts.weights = config.train;
  darts.network = config.network.cell;
  darts.operations = config.space.decisions().front().choices;
  darts.seed = derive_seed(config.seed, kSupernetStream + 1);
  darts.checkpoint_path = checkpoint;
  info(events,
       fmt::format("supernet: {}, weights on {} images, architecture on {}{}",
                   count_of(darts.epochs, "epoch"), halves.train.size(), halves.validation.size(),
                   fs::exists(checkpoint) ? ", resuming from supernet.pt" : ""));

  const auto on_epoch = [&](const DartsEpoch& epoch) {
    info(events, fmt::format("supernet epoch {:>3}/{}: loss {:.4f}, accuracy {:.2f}%, "
                             "architecture loss {:.4f}, {:.1f}s, most probable cell {}",
                             epoch.epoch, epoch.epochs, epoch.weight_loss,
                             100.0 * epoch.weight_accuracy, epoch.architecture_loss, epoch.seconds,
                             most_probable_cell(config, epoch.probabilities)));
    store.in_transaction([&] {
      store.set_study_value("supernet_epoch", std::to_string(epoch.epoch));
      clock.write(store);
    });
  };
  try {
    probabilities =
        train_darts_supernet(images.subset(halves.train), images.subset(halves.validation),
                             data.num_classes, darts, on_epoch);
  } catch (const Error& error) {
    if (!stop_requested()) throw;
    clock.save(store);
    throw Error(fmt::format("{}; run the same command to resume {} from its last supernet epoch",
                            error.what(), options.output_dir));
  }

  // The weights are all the trials need; the checkpoint is kept only while it may be resumed.
  store.set_study_value("darts_probabilities", nlohmann::json(probabilities).dump());
  fs::remove(checkpoint);
  return std::make_unique<WeightRanking>(config.space, std::move(probabilities), "darts");
}

nlohmann::json run_search(const ExperimentConfig& config, const SearchRunOptions& options,
                          const SearchEvents& events) {
  register_torch_strategies();
  StudyClock clock;
  clock.run_start = std::chrono::steady_clock::now();
  check_recorded_names_are_utf8(config, options);
  if (fs::exists(options.output_dir) && !fs::is_directory(options.output_dir)) {
    throw Error(fmt::format("--out {}: expected a directory, found a file", options.output_dir));
  }
  if (options.storage_url.empty()) check_results_have_their_store(options.output_dir);
  check_directory_names_this_study(config, options);
  check_output_directory_possible(options.output_dir);

  // The study directory, its lock and an existing store come before the data, which takes
  // seconds to load: a wrong --storage, a study made for workers, a search already running or
  // a changed config is refused at once. A new store is created once the data has loaded, so
  // that a missing dataset creates none. A refusal, here or while the data loads, leaves behind
  // nothing this run created: not the lock file, not a new --out directory, not a store.
  const std::vector<fs::path> new_directories = missing_directories(options.output_dir);
  std::optional<StudyLock> lock;
  std::optional<Store> opened_store;
  std::optional<StudyData> loaded_data;
  std::unique_ptr<Evaluator> evaluator;
  try {
    prepare_output_directory(options.output_dir);
    lock.emplace(options.output_dir);
    opened_store = open_existing_search_store(config, options);
    if (opened_store) check_search_store(*opened_store, config, options);

    loaded_data.emplace(load_study_data(config));
    const StudyData& data = *loaded_data;
    info(events, fmt::format("data: {} train / {} validation / {} test images of {}, {} classes "
                             "(candidates train on {})",
                             data.files.train.size() - data.validation.size(),
                             data.validation.size(), data.files.test.size(), data.input.to_string(),
                             data.num_classes, data.search_train.size()));
    evaluator = options.evaluator_factory
                    ? options.evaluator_factory(config)
                    : make_search_evaluator(config, data.search_train, data.validation);
    check_space_admits_valid(
        config, [&](const Architecture& architecture) { return evaluator->check(architecture); },
        data.input);

    if (!opened_store) {
      opened_store.emplace(create_search_store(config, options));
      // Another process may have created the same study in --storage meanwhile.
      check_search_store(*opened_store, config, options);
    }
    record_study(*opened_store, config, data);
    if (!options.storage_url.empty()) {
      opened_store->set_study_value(internal::kSearchDirectoryKey,
                                    fs::absolute(options.output_dir).lexically_normal().string());
    }
  } catch (...) {
    opened_store.reset();
    if (lock) lock->remove_if_created();
    lock.reset();
    remove_if_empty(new_directories);
    throw;
  }
  const StudyData& data = *loaded_data;
  Store store = std::move(*opened_store);
  opened_store.reset();
  const std::string study_name = options.storage_url.empty() ? directory_study_name(store, config)
                                                             : storage_study_name(config, options);
  if (study_name != config.study && options.storage_url.empty()) {
    info(events, fmt::format("study: the config names it '{}'; it keeps the name '{}' it was "
                             "created with, since a name chooses no data in a study directory",
                             config.study, study_name));
  }
  const int64_t interrupted = store.interrupt_running_trials(unix_now());
  const std::vector<TrialRecord> history = store.trials();
  if (!history.empty()) {
    info(events, fmt::format("resuming study '{}' in {}: {} trials stored, {} interrupted",
                             study_name, options.output_dir, history.size(), interrupted));
  }
  clock.study_before = stored_double(store, "elapsed_s", 0.0);
  clock.search_before = stored_double(store, "search_elapsed_s", 0.0);
  // From now on the clock runs: stored at once, so that status counts from this run's start
  // rather than from when an earlier run stopped.
  clock.save(store);
  std::unique_ptr<Strategy> strategy =
      is_weight_sharing(config.strategy.name)
          ? darts_strategy(config, options, events, data, store, clock)
          : make_strategy(config.strategy, config.space, derive_seed(config.seed, kStrategyStream));
  SearchState state = replay_history(config, history, std::move(strategy));
  state.strategy = guide_strategy(config, data.search_train, std::move(state.strategy));
  state.input = data.input;
  state.num_classes = data.num_classes;
  for (const auto& trial : history) {
    if (trial.state == TrialState::kInterrupted && trial.error == kProcessStoppedError) {
      ++state.process_deaths[trial.architecture_hash];
    }
  }

  // Search.
  const std::string stop_reason =
      search_loop(config, options, events, *evaluator, store, state, clock);
  clock.stop_search();
  clock.save(store);
  store.set_study_value("stop_reason", stop_reason);
  nlohmann::json summary = search_summary(config, data, store, stop_reason, clock);
  summary["study"] = study_name;
  if (!options.storage_url.empty()) {
    // The directory holds no study.db; status, pareto and report point here to find the trials.
    summary["storage"] = {{"url", redact_url_password(options.storage_url)}, {"study", study_name}};
  }
  summary["objectives"] = config.objectives.to_json();
  summary["pareto"] =
      pareto_json(pareto_report(store.trials(), config.objectives), config.objectives);

  // The best architecture, retrained and tested.
  double final_elapsed = 0.0;
  if (const auto best = best_feasible_trial(longest_trained(store.trials(), config.train.epochs),
                                            config.objectives)) {
    const Architecture architecture = config.space.parse(best->architecture);
    const ArchitectureCheck check = evaluator->check(architecture);
    nlohmann::json best_json = {{"trial_id", best->id},
                                {"arch", best->architecture},
                                {"arch_hash", best->architecture_hash},
                                {"arch_json", architecture.to_json()},
                                {"short", check.short_description},
                                {"val_accuracy", best->validation_accuracy},
                                {"params", best->params},
                                {"flops", best->flops}};
    const nlohmann::json final_json =
        train_or_reuse_final_model(config, options, events, data, *best, architecture, store);
    for (const auto& [key, value] : final_json.items()) best_json[key] = value;
    best_json["feasible"] = constraint_violation(trial_metrics(*best), config.objectives) == 0.0;
    // The search's measurements of this architecture (latency, memory), when it made any.
    const nlohmann::json search_metrics = nlohmann::json::parse(best->result_json, nullptr, false);
    if (search_metrics.is_object() && !search_metrics.empty()) {
      best_json["search_inference"] = search_metrics;
    }
    final_elapsed = best_json.value("final_elapsed_s", 0.0);
    summary["best"] = best_json;
  } else {
    summary["message"] = "no trial completed, so there is no model to retrain";
  }

  clock.save(store);
  summary["elapsed_s"] = clock.study_elapsed();
  summary["final_elapsed_s"] = final_elapsed;
  write_json_file((fs::path(options.output_dir) / "summary.json").string(), summary);
  return summary;
}

std::unique_ptr<Evaluator> make_study_evaluator(const ExperimentConfig& config) {
  // The evaluator keeps references to the data, so the data lives as long as the evaluator.
  struct EvaluatorWithData : Evaluator {
    explicit EvaluatorWithData(const ExperimentConfig& config)
        : data(load_study_data(config)),
          evaluator(make_training_evaluator(data.search_train, data.validation, config.train,
                                            config.cost_limits, config.network)) {}
    ArchitectureCheck check(const Architecture& architecture) const override {
      return evaluator->check(architecture);
    }
    Evaluation evaluate(const Architecture& architecture, const TrialContext& context) override {
      return evaluator->evaluate(architecture, context);
    }
    StudyData data;
    std::unique_ptr<Evaluator> evaluator;
  };
  return std::make_unique<EvaluatorWithData>(config);
}

nlohmann::json evaluate_study(const std::string& output_dir) {
  const nlohmann::json summary = read_json_file((fs::path(output_dir) / "summary.json").string());
  if (!summary.contains("best") || !summary["best"].is_object() ||
      !summary["best"].contains("test_accuracy")) {
    throw Error(
        fmt::format("{}/summary.json: expected a finished study with a final model, "
                    "found none; {}",
                    output_dir, missing_final_model_advice(summary)));
  }
  const auto& best = summary["best"];
  const std::string directory = summary["data"]["directory"].get<std::string>();
  const DatasetFiles files = read_idx_directory(directory, "");
  NetworkFamily family;
  if (summary.contains("space")) {
    family.family = summary["space"]["family"].get<std::string>();
    family.cell.cells_per_stage = summary["space"]["cells_per_stage"].get<int64_t>();
    family.cell.channels = summary["space"]["channels"].get<int64_t>();
  }
  const Architecture architecture =
      family.family == "nasbench201"
          ? make_nasbench201_space().parse(best["arch"].get<std::string>())
          : Architecture::from_string(best["arch"].get<std::string>());
  const double accuracy =
      evaluate_checkpoint(family, architecture, summary["data"]["num_classes"].get<int64_t>(),
                          (fs::path(output_dir) / "model.pt").string(), files.test);
  const double recorded = best["test_accuracy"].get<double>();
  return {{"test_accuracy", accuracy},
          {"summary_test_accuracy", recorded},
          {"matches", accuracy == recorded},
          {"arch", best["arch"]},
          {"test_size", files.test.size()}};
}

std::pair<ImageDataset, ImageDataset> load_search_datasets(const ExperimentConfig& config) {
  StudyData data = load_study_data(config);
  return {std::move(data.search_train), std::move(data.validation)};
}

}  // namespace nascent
