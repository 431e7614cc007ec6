#include "nascent/experiment/worker.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"
#include "nascent/core/random.h"
#include "nascent/data/idx_reader.h"
#include "nascent/eval/tabular_evaluator.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/experiment/study_status.h"
#include "nascent/store/store.h"
#include "nascent/strategy/strategy.h"

namespace nascent {

namespace {

/// The stream of the study seed the strategy draws from; the same as in a single-process
/// search, so that one worker proposes what `nascent search` would.
constexpr uint64_t kStrategyStream = 2;

/// Proposals in a row that bring nothing new before the space counts as exhausted.
constexpr int64_t kMaxProposalsWithoutNew = 2000;

/// Spaces up to this size are counted, so that a worker stops when every member was tried.
constexpr int64_t kCountLimit = 100000;

/// How often a worker that waits looks at the stop flag.
constexpr std::chrono::milliseconds kStopCheckInterval{20};

/// Study values a shared study keeps besides those a single-process search writes.
constexpr const char* kSettingsKey = "worker_settings";
constexpr const char* kStartedAtKey = "workers_started_at";

bool counts_against_budget(TrialState state) {
  return state == TrialState::kComplete || state == TrialState::kFailed ||
         state == TrialState::kPruned;
}

bool is_finished(TrialState state) {
  return counts_against_budget(state) || state == TrialState::kInvalid;
}

bool is_in_flight(TrialState state) {
  return state == TrialState::kRunning || state == TrialState::kQueued;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string default_worker_name() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "unknown");
  return fmt::format("{}:{}", host, getpid());
}

/// One setting per line, so that a mismatch can be named by its first differing line.
std::string settings_text(const ExperimentConfig& config, const CreateStudyOptions& options) {
  std::string text = search_fingerprint(config);
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += fmt::format("budget.max_trials={}\n", config.budget.max_trials);
  text += fmt::format("budget.time_limit_min={}\n", config.budget.time_limit_min);
  text += fmt::format("heartbeat_timeout_s={}\n", options.heartbeat_timeout_s);
  text += fmt::format("max_attempts={}\n", options.max_attempts);
  text += fmt::format("table={}\n", options.table_path);
  text += fmt::format("table_trial_s={}\n", options.table_trial_s);
  return text;
}

double stored_number(const Store& store, const std::string& key) {
  const auto value = store.study_value(key);
  if (!value) {
    throw Error(
        fmt::format("{}: expected study value '{}' written by nascent create-study, "
                    "found none",
                    store.path(), key));
  }
  try {
    return std::stod(*value);
  } catch (const std::exception&) {
    throw Error(fmt::format("{}: study value '{}': expected a number, found '{}'", store.path(),
                            key, *value));
  }
}

/// What a worker needs to know about its study, read once when it joins.
struct SharedStudy {
  ExperimentConfig config;
  double heartbeat_timeout_s = 60.0;
  int64_t max_attempts = 3;
  std::unique_ptr<Evaluator> evaluator;
};

SharedStudy load_shared_study(Store& store, const WorkerOptions& options) {
  const auto config_text = store.study_value("config_text");
  if (!config_text || !store.study_value(kSettingsKey)) {
    throw Error(
        fmt::format("{}: expected a study created with nascent create-study, found one "
                    "without its settings",
                    store.path()));
  }
  SharedStudy study;
  study.config =
      parse_experiment_config(*config_text, store.study_value("config_path").value_or("<store>"));
  study.config.seed = static_cast<uint64_t>(stored_number(store, "seed"));
  study.config.budget.max_trials = static_cast<int64_t>(stored_number(store, "max_trials"));
  study.config.budget.time_limit_min = stored_number(store, "time_limit_min");
  study.heartbeat_timeout_s = stored_number(store, "heartbeat_timeout_s");
  study.max_attempts = static_cast<int64_t>(stored_number(store, "max_attempts"));

  const std::string table_path = store.study_value("table_path").value_or("");
  if (!table_path.empty()) {
    auto table = std::make_shared<const Nasbench201Table>(Nasbench201Table::load(table_path));
    study.evaluator =
        std::make_unique<TabularEvaluator>(std::move(table), stored_number(store, "table_trial_s"));
  } else if (options.evaluator_factory) {
    study.evaluator = options.evaluator_factory(study.config);
  } else {
    throw Error(
        fmt::format("{}: expected a table (create-study --table) or an evaluator for "
                    "training, found neither",
                    store.path()));
  }
  return study;
}

/// The outcome of one look at the study under its lock.
struct Claim {
  enum class Kind { kTrial, kWait, kDone };
  Kind kind = Kind::kWait;
  /// For kTrial: the claimed trial, RUNNING under its attempt, and its architecture.
  TrialRecord trial;
  std::optional<Architecture> architecture;
  /// For kDone: why the study is over.
  std::string stop_reason;
  /// Trials that lost their worker and were re-queued or failed during this look.
  std::vector<TrialRecord> recovered;
};

/// Budget and progress of the study as stored.
struct StudyProgress {
  int64_t counted = 0;
  int64_t in_flight = 0;
};

StudyProgress progress_of(const std::vector<TrialRecord>& history) {
  StudyProgress progress;
  for (const auto& trial : history) {
    if (counts_against_budget(trial.state)) ++progress.counted;
    if (is_in_flight(trial.state)) ++progress.in_flight;
  }
  return progress;
}

/// Starts a new trial of `architecture` as this worker's claim.
Claim begin_new_trial(Store& store, const SharedStudy& study, const Architecture& architecture,
                      const ArchitectureCheck& check, const std::string& worker, double now) {
  Claim claim;
  claim.kind = Claim::Kind::kTrial;
  claim.trial.architecture = study.config.space.format(architecture);
  claim.trial.architecture_hash = architecture.hash_hex();
  claim.trial.params = check.params;
  claim.trial.flops = check.flops;
  claim.trial.started_at = now;
  claim.trial.worker = worker;
  claim.trial.attempt = 1;
  claim.trial.state = TrialState::kRunning;
  claim.trial.id = store.begin_trial(claim.trial.architecture, claim.trial.architecture_hash, now,
                                     worker, claim.trial.params, claim.trial.flops);
  claim.architecture = architecture;
  return claim;
}

/// Decides, holding the study's lock, what this worker does next. Everything it reads and
/// writes is one transaction, so two workers never claim the same trial or architecture.
Claim claim_next(Store& store, const SharedStudy& study, const std::string& worker,
                 const std::optional<int64_t>& space_size) {
  const ExperimentConfig& config = study.config;
  Claim claim;
  const double now = store.now();
  claim.recovered = store.requeue_stale_trials(now, study.heartbeat_timeout_s, study.max_attempts);
  const std::vector<TrialRecord> history = store.trials();
  const StudyProgress progress = progress_of(history);

  // Budget: never more finished trials than max_trials, no new trial after the time limit.
  if (config.budget.max_trials > 0 && progress.counted >= config.budget.max_trials) {
    claim.kind = Claim::Kind::kDone;
    claim.stop_reason = "max_trials";
    return claim;
  }
  const auto started_at = store.study_value(kStartedAtKey);
  if (!started_at) store.set_study_value(kStartedAtKey, fmt::format("{}", now));
  const double elapsed_s = started_at ? now - std::stod(*started_at) : 0.0;
  if (config.budget.time_limit_min > 0 && elapsed_s >= config.budget.time_limit_min * 60.0) {
    claim.kind = Claim::Kind::kDone;
    claim.stop_reason = "time_limit";
    return claim;
  }

  // A trial re-queued from a lost worker goes first: it already counts as in flight.
  if (auto queued = store.claim_queued_trial(worker, now)) {
    claim.kind = Claim::Kind::kTrial;
    claim.architecture = config.space.parse(queued->architecture);
    claim.trial = std::move(*queued);
    return claim;
  }
  if (config.budget.max_trials > 0 &&
      progress.counted + progress.in_flight >= config.budget.max_trials) {
    claim.kind = Claim::Kind::kWait;
    return claim;
  }

  // The strategy as if it had run alone: every finished trial told in id order.
  auto strategy =
      make_strategy(config.strategy, config.space, derive_seed(config.seed, kStrategyStream));
  std::unordered_map<std::string, Observation> finished;
  std::unordered_set<std::string> pending;
  for (const auto& trial : history) {
    if (is_in_flight(trial.state)) pending.insert(trial.architecture_hash);
    if (!is_finished(trial.state)) continue;
    const Observation observation{trial.state, trial.validation_accuracy, 0, {}, 0.0};
    finished[trial.architecture_hash] = observation;
    strategy->tell(config.space.parse(trial.architecture), observation);
  }

  // An architecture whose trial was interrupted (a worker stopped by a signal) runs again.
  for (const auto& trial : history) {
    if (trial.state != TrialState::kInterrupted || finished.count(trial.architecture_hash) ||
        pending.count(trial.architecture_hash)) {
      continue;
    }
    const Architecture architecture = config.space.parse(trial.architecture);
    return begin_new_trial(store, study, architecture, study.evaluator->check(architecture), worker,
                           now);
  }

  // A rebuilt strategy may first re-propose everything known (random search walks the same
  // permutation again), so those proposals do not count towards exhaustion.
  const int64_t max_proposals =
      kMaxProposalsWithoutNew + static_cast<int64_t>(finished.size() + pending.size());
  for (int64_t proposals = 0; proposals < max_proposals; ++proposals) {
    if (space_size && static_cast<int64_t>(finished.size() + pending.size()) >= *space_size) {
      break;
    }
    const auto proposal = strategy->ask();
    if (!proposal) break;
    const std::string hash = proposal->hash_hex();

    // Finished architectures were told in the replay; telling them again here would count a
    // result twice (evolution's population would fill with copies of old trials). Running ones
    // have no result yet. Either is skipped; strategies accept a proposal never told.
    if (finished.count(hash) || pending.count(hash)) continue;

    const ArchitectureCheck check = study.evaluator->check(*proposal);
    if (!check.valid) {
      TrialRecord record;
      record.architecture = config.space.format(*proposal);
      record.architecture_hash = hash;
      record.state = TrialState::kInvalid;
      record.started_at = record.finished_at = now;
      record.error = check.reason;
      record.worker = worker;
      store.insert_finished_trial(record);
      finished[hash] = {TrialState::kInvalid, std::nan(""), 0, {}, 0.0};
      strategy->tell(*proposal, finished[hash]);
      continue;
    }
    return begin_new_trial(store, study, *proposal, check, worker, now);
  }

  // Nothing new to propose: done once nothing runs anywhere (a running trial may still fail
  // over to this worker).
  claim.kind = progress.in_flight > 0 ? Claim::Kind::kWait : Claim::Kind::kDone;
  claim.stop_reason = "exhausted";
  return claim;
}

/// Sends heartbeats for one claimed trial from a thread of its own until destroyed. `store` is
/// a connection of its own, used by no other thread meanwhile.
class HeartbeatThread {
 public:
  HeartbeatThread(Store& store, const TrialRecord& trial, double interval_s)
      : store_(store),
        trial_id_(trial.id),
        attempt_(trial.attempt),
        interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(interval_s))),
        thread_([this] { run(); }) {}

  ~HeartbeatThread() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  HeartbeatThread(const HeartbeatThread&) = delete;
  HeartbeatThread& operator=(const HeartbeatThread&) = delete;

  /// The store error that stopped the heartbeats, if any.
  std::string error() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      std::string failure;
      try {
        // A lost claim needs no more heartbeats; the result will be refused on finishing.
        if (!store_.heartbeat(trial_id_, attempt_, store_.now())) return;
      } catch (const std::exception& caught) {
        failure = caught.what();
      }
      lock.lock();
      if (!failure.empty()) {
        error_ = failure;
        return;
      }
    }
  }

  Store& store_;
  int64_t trial_id_;
  int64_t attempt_;
  std::chrono::steady_clock::duration interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string error_;
  // Last, so that it starts after every member it uses is ready.
  std::thread thread_;
};

/// Evaluates a claimed trial while heartbeats go out, and stores its result if the claim holds.
/// Returns the stored record, or nullopt when the result was discarded.
std::optional<TrialRecord> run_claimed_trial(Store& store, Store& heartbeat_store,
                                             SharedStudy& study, Claim& claim,
                                             const WorkerEvents& events) {
  TrialRecord record = claim.trial;
  const Architecture& architecture = *claim.architecture;

  TrialContext context;
  context.trial_id = record.id;
  context.seed = derive_seed(study.config.seed, architecture.hash());
  context.on_epoch = [&](const EpochMetrics& metrics) { store.add_epoch(record.id, metrics); };

  Evaluation evaluation;
  const auto start = std::chrono::steady_clock::now();
  {
    const HeartbeatThread heartbeat(heartbeat_store, record, study.heartbeat_timeout_s / 4.0);
    try {
      evaluation = study.evaluator->evaluate(architecture, context);
    } catch (const std::exception& error) {
      // One broken candidate must not end the worker; the trial records why.
      const std::string message = error.what();
      evaluation.state = TrialState::kFailed;
      evaluation.validation_accuracy = std::nan("");
      evaluation.error = "evaluation error: " + message.substr(0, message.find('\n'));
    }
    if (!heartbeat.error().empty() && events.on_warning) {
      events.on_warning(
          fmt::format("trial {}: heartbeats stopped: {}", record.id, heartbeat.error()));
    }
  }

  record.state = evaluation.state;
  record.validation_accuracy = evaluation.validation_accuracy;
  record.train_seconds =
      evaluation.train_seconds > 0
          ? evaluation.train_seconds
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  record.finished_at = unix_now();
  record.error = evaluation.error;
  if (store.finish_claimed_trial(record)) return record;

  if (events.on_warning) {
    const auto now = store.trial(record.id);
    events.on_warning(fmt::format(
        "trial {}: result of attempt {} discarded: expected the trial still running under this "
        "worker, found it {} (attempt {}, worker '{}'); it is recorded once",
        record.id, record.attempt, now ? to_string(now->state) : "missing", now ? now->attempt : 0,
        now ? now->worker : ""));
  }
  return std::nullopt;
}

/// Waits `seconds`, returning early when a stop is requested.
void wait_or_stop(double seconds) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(seconds));
  while (!stop_requested() && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(kStopCheckInterval);
  }
}

}  // namespace

void CreateStudyOptions::validate() const {
  if (study.empty()) throw Error("--study: expected a study name, found an empty one");
  if (!(heartbeat_timeout_s > 0.0) || !std::isfinite(heartbeat_timeout_s)) {
    throw Error(
        fmt::format("--heartbeat-timeout-s: expected seconds > 0, found {}", heartbeat_timeout_s));
  }
  if (max_attempts < 1) {
    throw Error(fmt::format("--max-attempts: expected an integer >= 1, found {}", max_attempts));
  }
  if (!(table_trial_s >= 0.0) || !std::isfinite(table_trial_s)) {
    throw Error(fmt::format("--table-trial-s: expected seconds >= 0, found {}", table_trial_s));
  }
  if (table_path.empty() && table_trial_s > 0.0) {
    throw Error("--table-trial-s: expected --table as well, found no table");
  }
}

nlohmann::json create_study(const ExperimentConfig& config, const CreateStudyOptions& options) {
  options.validate();
  // Workers claim one full-fidelity trial at a time: brackets across workers are not built, and
  // a supernet is one training run that does not split into trials.
  if (is_multi_fidelity(config.strategy.name) || is_weight_sharing(config.strategy.name)) {
    throw Error(fmt::format(
        "{}: strategy {}: expected a strategy whose trials workers can claim one at a time "
        "(random, evolution, local, reinforce, bo), found {}; run it with `nascent search`",
        config.path, config.strategy.name,
        is_multi_fidelity(config.strategy.name) ? "a multi-fidelity one"
                                                : "one that first trains a supernet"));
  }
  if (config.budget.max_trials <= 0 && config.budget.time_limit_min <= 0) {
    throw Error("budget: expected --max-trials or --time-limit-min above 0, found no limit");
  }
  if (options.table_path.empty()) {
    // The workers will train on the data: a missing dataset, or a space with no architecture
    // for its images, fails here rather than in every worker (found by a fresh-user test).
    DatasetFiles files;
    try {
      files = read_idx_directory(config.data.directory, config.data.debian_package);
    } catch (const DataError& error) {
      throw ConfigError(config.path, config.data.directory_line, "data.directory", error.what());
    }
    const ImageShape input{files.train.channels, files.train.height, files.train.width};
    const int64_t num_classes = std::max(files.train.num_classes, files.test.num_classes);
    check_space_admits_valid(
        config,
        [&](const Architecture& architecture) {
          return check_architecture(config.network, architecture, input, num_classes,
                                    config.cost_limits);
        },
        input);
  } else {
    // Load it now, so that a bad table fails here rather than in every worker.
    const Nasbench201Table table = Nasbench201Table::load(options.table_path);
    const auto space_size = config.space.count(kCountLimit);
    if (config.network.family != "nasbench201" || space_size != table.size()) {
      throw Error(
          fmt::format("{}: --table {}: expected a space of family nasbench201 with the table's {} "
                      "architectures, found family {} with {}",
                      config.path, options.table_path, table.size(), config.network.family,
                      space_size ? std::to_string(*space_size) : "more than 100000"));
    }
  }

  Store store = Store::open(options.storage_url, options.study, StudyOpenMode::kCreateIfMissing);
  const std::string settings = settings_text(config, options);
  bool created = false;
  store.in_transaction([&] {
    const auto stored = store.study_value(kSettingsKey);
    if (stored && *stored != settings) {
      throw Error(fmt::format(
          "{}: expected the config and settings study '{}' was created with, found different "
          "ones (first difference: {}); use another --study name or the original settings",
          store.path(), options.study, describe_first_difference(*stored, settings)));
    }
    if (stored) return;
    if (store.study_value("config_text") || !store.trials().empty()) {
      throw Error(
          fmt::format("{}: expected a new study or one made by create-study, found one "
                      "made by nascent search; use another --study name",
                      store.path()));
    }
    store.set_study_value("config_text", config.text);
    store.set_study_value("config_path", config.path);
    store.set_study_value("fingerprint", search_fingerprint(config));
    store.set_study_value("created_at", fmt::format("{}", unix_now()));
    store.set_study_value("seed", std::to_string(config.seed));
    store.set_study_value("max_trials", std::to_string(config.budget.max_trials));
    store.set_study_value("time_limit_min", fmt::format("{}", config.budget.time_limit_min));
    store.set_study_value("heartbeat_timeout_s", fmt::format("{}", options.heartbeat_timeout_s));
    store.set_study_value("max_attempts", std::to_string(options.max_attempts));
    store.set_study_value("table_path", options.table_path);
    store.set_study_value("table_trial_s", fmt::format("{}", options.table_trial_s));
    store.set_study_value(kSettingsKey, settings);
    created = true;
  });
  return {{"created", created}, {"storage", store.path()}, {"study", options.study}};
}

WorkerSummary run_worker(const WorkerOptions& options, const WorkerEvents& events) {
  if (!(options.poll_interval_s > 0.0)) {
    throw Error(fmt::format("--poll-s: expected seconds > 0, found {}", options.poll_interval_s));
  }
  Store store = Store::open(options.storage_url, options.study, StudyOpenMode::kExisting);
  // Heartbeats go out from another thread while this one may write epochs, so on a second
  // connection (neither SQLite nor libpq connections may be shared between threads).
  Store heartbeat_store = Store::open(options.storage_url, options.study, StudyOpenMode::kExisting);
  SharedStudy study = load_shared_study(store, options);
  const std::string worker = options.name.empty() ? default_worker_name() : options.name;
  const auto space_size = study.config.space.count(kCountLimit);
  if (events.on_info) {
    events.on_info(
        fmt::format("worker {} joined study '{}' in {}: strategy {}, budget {} "
                    "trials / {} minutes",
                    worker, options.study, store.path(), study.config.strategy.name,
                    study.config.budget.max_trials, study.config.budget.time_limit_min));
  }

  WorkerSummary summary;
  while (true) {
    if (stop_requested()) {
      throw Error(fmt::format("interrupted: worker {} stopped between trials", worker));
    }

    Claim claim;
    store.in_transaction([&] { claim = claim_next(store, study, worker, space_size); });
    for (const auto& trial : claim.recovered) {
      if (!events.on_warning) break;
      events.on_warning(
          trial.state == TrialState::kQueued
              ? fmt::format("trial {}: worker '{}' sent no heartbeat for {} s; re-queued "
                            "(attempt {} of {} done)",
                            trial.id, trial.worker, study.heartbeat_timeout_s, trial.attempt,
                            study.max_attempts)
              : fmt::format("trial {}: {}", trial.id, trial.error));
    }

    if (claim.kind == Claim::Kind::kDone) {
      summary.stop_reason = claim.stop_reason;
      return summary;
    }
    if (claim.kind == Claim::Kind::kWait) {
      wait_or_stop(options.poll_interval_s);
      continue;
    }

    const auto stored = run_claimed_trial(store, heartbeat_store, study, claim, events);
    if (!stored) {
      ++summary.results_discarded;
      continue;
    }
    if (stored->state == TrialState::kInterrupted) {
      throw Error(
          fmt::format("interrupted: trial {} is recorded as interrupted and will run "
                      "again on the next free worker",
                      stored->id));
    }
    ++summary.trials_finished;
    if (events.on_trial) {
      events.on_trial(*stored, study.evaluator->check(*claim.architecture).short_description);
    }
  }
}

nlohmann::json shared_study_status(const std::string& storage_url, const std::string& study) {
  const Store store = Store::open(storage_url, study, StudyOpenMode::kExisting);
  if (!store.study_value(kSettingsKey) && store.study_value("fingerprint")) {
    // A study of `nascent search --storage`: its budget and clock are the search's, kept as
    // for a study directory; it has no workers and no worker clock.
    nlohmann::json status = search_study_status(store);
    status["kind"] = "search";
    status["storage"] = store.path();
    status["study"] = study;
    return status;
  }
  const double now = store.now();
  const std::vector<TrialRecord> trials = store.trials();

  nlohmann::json status;
  status["kind"] = "workers";
  status["storage"] = store.path();
  status["study"] = study;
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [state, count] : store.count_by_state()) counts[to_string(state)] = count;
  status["trials"] = counts;
  status["max_trials"] = std::stoll(store.study_value("max_trials").value_or("0"));
  status["time_limit_min"] = std::stod(store.study_value("time_limit_min").value_or("0"));
  const auto started_at = store.study_value(kStartedAtKey);
  status["elapsed_s"] = started_at ? now - std::stod(*started_at) : 0.0;

  status["best"] = nullptr;
  const TrialRecord* best = nullptr;
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) continue;
    if (best == nullptr || trial.validation_accuracy > best->validation_accuracy) best = &trial;
  }
  if (best != nullptr) {
    status["best"] = {{"trial_id", best->id},
                      {"arch", best->architecture},
                      {"val_accuracy", best->validation_accuracy},
                      {"params", best->params},
                      {"worker", best->worker}};
  }

  nlohmann::json running = nlohmann::json::array();
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kRunning) continue;
    running.push_back({{"id", trial.id},
                       {"worker", trial.worker},
                       {"attempt", trial.attempt},
                       {"heartbeat_age_s", std::isnan(trial.heartbeat_at)
                                               ? nlohmann::json(nullptr)
                                               : nlohmann::json(now - trial.heartbeat_at)}});
  }
  status["running"] = running;
  return status;
}

}  // namespace nascent
