#pragma once

/// Studies shared by many workers: creating one in a store, and the worker loop that joins it.
///
/// A study in a shared store holds its config text, budget and worker settings, so a worker
/// needs only the store URL and the study name. Each worker repeatedly, under the study's lock:
/// re-queues trials whose worker stopped sending heartbeats, claims a queued trial or rebuilds
/// the strategy from the stored history (tell() for every finished trial, in id order, with the
/// study's seed) and asks it for an architecture no trial has; then it evaluates that trial
/// outside the lock while a background thread sends heartbeats, and stores the result only if
/// the trial is still its own.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "nascent/experiment/config.h"
#include "nascent/experiment/experiment.h"
#include "nascent/store/trial.h"

namespace nascent {

/// How a shared study is created; everything here is stored with the study.
struct CreateStudyOptions {
  /// `sqlite://PATH` or `postgresql://user@host:port/database` (see nascent::Store::open).
  std::string storage_url;
  /// The study's name in the store.
  std::string study;
  /// A RUNNING trial whose last heartbeat is older than this is re-queued. Workers send a
  /// heartbeat every quarter of it.
  double heartbeat_timeout_s = 60.0;
  /// How many times a trial may be claimed before a lost worker marks it FAILED.
  int64_t max_attempts = 3;
  /// When set, workers look architectures up in this NAS-Bench-201 table instead of training
  /// them (tests and benchmarks); the space must be `family: nasbench201`.
  std::string table_path;
  /// With a table: seconds each lookup waits, to stand in for training time.
  double table_trial_s = 0.0;

  /// Throws nascent::Error naming the bad field.
  void validate() const;
};

/// Creates the study `options.study` from `config` (budget included) in the store, or checks
/// that an existing study of that name has the same config and settings, so that the same
/// command may run on every machine. Returns {"created": bool, "storage": ..., "study": ...}.
/// Throws nascent::Error naming the first setting that differs.
nlohmann::json create_study(const ExperimentConfig& config, const CreateStudyOptions& options);

/// Settings of one worker process.
struct WorkerOptions {
  std::string storage_url;
  std::string study;
  /// How this worker is named in the store; empty means "host:pid".
  std::string name;
  /// Pause between looks at the study while every remaining trial is running elsewhere.
  double poll_interval_s = 1.0;
  /// Builds the evaluator for a study without a table (the training evaluator in the app).
  EvaluatorFactory evaluator_factory;
};

/// Progress of a worker; the library itself prints nothing.
struct WorkerEvents {
  std::function<void(const std::string&)> on_info;
  /// Something was lost or refused: a result discarded, a trial re-queued or given up.
  std::function<void(const std::string&)> on_warning;
  /// This worker stored the result of a trial.
  std::function<void(const TrialRecord&, const std::string& short_description)> on_trial;
};

/// What one worker did.
struct WorkerSummary {
  /// Why the worker stopped: max_trials, time_limit or exhausted.
  std::string stop_reason;
  /// Trials whose result this worker stored.
  int64_t trials_finished = 0;
  /// Results this worker computed but did not store, because the trial had been re-queued,
  /// claimed by another worker or finished meanwhile.
  int64_t results_discarded = 0;
};

/// Joins the study and runs trials until its budget is spent (max_trials finished trials, the
/// time limit since the first worker started) or its space is exhausted. On a stop request
/// (SIGINT, SIGTERM through nascent::request_stop()) the running trial is stored as INTERRUPTED
/// and nascent::Error is thrown. Throws nascent::Error when the study does not exist.
WorkerSummary run_worker(const WorkerOptions& options, const WorkerEvents& events = {});

/// The state of a shared study as JSON: counts by state, budget, seconds since the first worker
/// joined, the best trial so far and every RUNNING trial with its worker, attempt and the age of
/// its last heartbeat ("kind": "workers"). For a study of `nascent search --storage`, the status
/// search_study_status() gives, with "kind": "search". Throws nascent::Error when the study does
/// not exist.
nlohmann::json shared_study_status(const std::string& storage_url, const std::string& study);

}  // namespace nascent
