// The search with cheap evaluation: pruning of scripted learning curves (stored as PRUNED, the
// same decisions after a resume), the proxy as evaluator, pre-filter and warm start, and
// low-fidelity training, on a tiny synthetic dataset.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>

#include "nascent/core/error.h"
#include "nascent/core/random.h"
#include "nascent/eval/proxy_names.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/experiment/cheap_evaluation.h"
#include "nascent/experiment/experiment.h"
#include "nascent/experiment/proxy_study.h"
#include "nascent/nn/build_network.h"
#include "nascent/nn/macro_net.h"
#include "nascent/space/macro_space.h"
#include "nascent/store/store.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::fresh_directory;
using testing_support::write_text;

/// Runs a shell command; returns its standard output and sets `status` to its exit status.
std::string run_command(const std::string& command, int& status) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[256];
  while (pipe != nullptr && fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  status = pipe != nullptr ? WEXITSTATUS(pclose(pipe)) : -1;
  return output;
}

std::string config_text(const std::string& data_dir, int64_t max_trials,
                        const std::string& sections) {
  return fmt::format(R"(study: cheap
seed: 5
threads: 1
data: {{dataset: idx, directory: {}, validation_size: 200}}
space:
  stem_width: [8]
  stages: {{min: 1, max: 2}}
  depth: 1
  downsample: [max_pool, stride]
  op: [conv, sep_conv, max_pool]
  width: [8, 16]
  kernel: [3, 5]
  activation: [relu, gelu]
  batch_norm: [true]
  skip: [none]
  dense_layers: 0
  dropout: [0]
strategy: {{name: evolution, population: 4, sample: 2}}
budget: {{max_trials: {}}}
train: {{epochs: 3, batch_size: 32, learning_rate: 0.05}}
final: {{epochs: 1}}
{})",
                     data_dir, max_trials, sections);
}

/// Learning curves made up from the architecture: accuracy at epoch e is a per-architecture
/// level plus 0.05 e. It honours should_prune like the training evaluator does.
class ScriptedCurveEvaluator : public Evaluator {
 public:
  ArchitectureCheck check(const Architecture& architecture) const override {
    return check_macro_architecture(architecture, {1, 12, 12}, 4);
  }

  Evaluation evaluate(const Architecture& architecture, const TrialContext& context) override {
    const double level = static_cast<double>(architecture.hash() % 40) / 100.0;
    Evaluation evaluation;
    for (int64_t epoch = 1; epoch <= 3; ++epoch) {
      EpochMetrics metrics;
      metrics.epoch = epoch;
      metrics.validation_accuracy = level + 0.05 * static_cast<double>(epoch);
      evaluation.epochs.push_back(metrics);
      evaluation.validation_accuracy = metrics.validation_accuracy;
      if (context.on_epoch) context.on_epoch(metrics);
      if (epoch < 3 && context.should_prune && context.should_prune(metrics)) {
        evaluation.state = TrialState::kPruned;
        break;
      }
    }
    return evaluation;
  }
};

class CheapSearchTest : public testing_support::QuadrantDataTest<400, 100> {};

/// Every stored trial's state against the decisions decide_pruning makes from the store.
void expect_stored_decisions_reproduce(const std::string& out, const PruningOptions& options) {
  const Store store(out + "/study.db");
  for (const auto& trial : store.trials()) {
    if (trial.state != TrialState::kComplete && trial.state != TrialState::kPruned) continue;
    const auto history = pruning_history(store, trial.id);
    std::vector<double> curve;
    bool pruned = false;
    for (const auto& epoch : store.epochs(trial.id)) {
      curve.push_back(epoch.validation_accuracy);
      if (curve.size() < 3 && decide_pruning(options, curve, history).prune) {
        pruned = true;
        break;
      }
    }
    EXPECT_EQ(trial.state == TrialState::kPruned, pruned) << "trial " << trial.id;
    EXPECT_EQ(static_cast<int64_t>(curve.size()),
              static_cast<int64_t>(store.epochs(trial.id).size()));
  }
}

TEST_F(CheapSearchTest, PrunedTrialsAreStoredWithTheirMetricsAndResumeDecidesTheSame) {
  const std::string out = fresh_directory("cheap_pruning");
  const std::string pruning = "pruning: {rule: median, min_trials: 2}\n";
  SearchRunOptions options;
  options.output_dir = out;
  options.skip_final = true;
  options.evaluator_factory = [](const ExperimentConfig&) {
    return std::make_unique<ScriptedCurveEvaluator>();
  };

  // Half the budget, then a resume to the full budget.
  run_search(parse_experiment_config(config_text(data_dir_, 6, pruning), "cheap.yaml"), options);
  const nlohmann::json summary = run_search(
      parse_experiment_config(config_text(data_dir_, 14, pruning), "cheap.yaml"), options);

  const int64_t pruned = summary["trials"]["pruned"].get<int64_t>();
  EXPECT_GT(pruned, 0);
  EXPECT_EQ(summary["trials"]["complete"].get<int64_t>() + pruned, 14);
  EXPECT_EQ(summary["pruning"]["rule"], "median");
  EXPECT_EQ(summary["pruning"]["min_trials"], 2);

  const Store store(out + "/study.db");
  for (const auto& trial : store.trials()) {
    if (trial.state != TrialState::kPruned) continue;
    const auto epochs = store.epochs(trial.id);
    ASSERT_FALSE(epochs.empty());
    EXPECT_LT(epochs.size(), 3u);
    EXPECT_DOUBLE_EQ(trial.validation_accuracy, epochs.back().validation_accuracy);
    EXPECT_NE(trial.error.find("by the median rule"), std::string::npos) << trial.error;
  }
  const nlohmann::json status = study_status(out);
  EXPECT_EQ(status["trials"]["pruned"].get<int64_t>(), pruned);

  PruningOptions options_used;
  options_used.rule = "median";
  options_used.min_trials = 2;
  expect_stored_decisions_reproduce(out, options_used);
}

TEST_F(CheapSearchTest, ProxyEvaluatorPrefilterWarmStartAndLowFidelityRunEndToEnd) {
  const std::vector<std::string> sections = {
      "proxy: {use: evaluator, name: synflow, batch_size: 8}\n",
      "proxy: {use: prefilter, name: naswot, batch_size: 8, candidates: 3, keep: 1}\n",
      "proxy: {use: warm_start, name: grad_norm, batch_size: 8, candidates: 6, keep: 2}\n",
      "fidelity: {data_fraction: 0.5, width_multiplier: 0.5, resolution: 8}\n"};
  for (size_t i = 0; i < sections.size(); ++i) {
    SearchRunOptions options;
    options.output_dir = fresh_directory("cheap_end_to_end_" + std::to_string(i));
    options.skip_final = true;
    const ExperimentConfig config =
        parse_experiment_config(config_text(data_dir_, 3, sections[i]), "cheap.yaml");
    const nlohmann::json summary = run_search(config, options);
    EXPECT_EQ(summary["trials"]["complete"].get<int64_t>(), 3) << sections[i];
    EXPECT_EQ(summary["proxy"]["use"], config.proxy.use);
    EXPECT_EQ(summary["fidelity"]["candidates"]["width_multiplier"],
              config.fidelity.width_multiplier);
    EXPECT_EQ(summary["fidelity"]["final"]["resolution"], "full");
  }
}

// The proxy evaluator's objective is the proxy score: params ranks by parameter count.
TEST_F(CheapSearchTest, ProxyEvaluatorScoresAreTheObjective) {
  SearchRunOptions options;
  options.output_dir = fresh_directory("cheap_params");
  options.skip_final = true;
  const ExperimentConfig config = parse_experiment_config(
      config_text(data_dir_, 4, "proxy: {use: evaluator, name: params}\n"), "cheap.yaml");
  run_search(config, options);
  const Store store(options.output_dir + "/study.db");
  for (const auto& trial : store.trials()) {
    EXPECT_EQ(trial.validation_accuracy, static_cast<double>(trial.params));
  }
}

// Invalid architectures may reach the pre-filter (strategies propose them): they rank last
// instead of failing the network build.
TEST_F(CheapSearchTest, ProxyScorerRanksInvalidArchitecturesLast) {
  ExperimentConfig config = parse_experiment_config(config_text(data_dir_, 3, ""), "cheap.yaml");
  const auto [train, validation] = load_search_datasets(config);
  Rng rng(2);
  const Architecture architecture = config.space.sample(rng);
  for (const char* proxy : {"snip", "params"}) {
    EXPECT_TRUE(std::isfinite(make_proxy_scorer(config, train, proxy, 8, 1)(architecture)));
  }
  config.cost_limits.max_params = 1;
  for (const char* proxy : {"snip", "params"}) {
    EXPECT_EQ(make_proxy_scorer(config, train, proxy, 8, 1)(architecture),
              -std::numeric_limits<double>::infinity());
  }
}

// The training evaluator asks after every epoch but the last, and stops when told.
TEST_F(CheapSearchTest, TrainingStopsWhenThePrunerSaysSo) {
  const ExperimentConfig config =
      parse_experiment_config(config_text(data_dir_, 3, ""), "cheap.yaml");
  const auto [train, validation] = load_search_datasets(config);
  const auto evaluator = make_training_evaluator(train, validation, config.train);
  Rng rng(1);
  Architecture architecture = config.space.sample(rng);
  while (!evaluator->check(architecture).valid) architecture = config.space.sample(rng);

  TrialContext context;
  int64_t asked = 0;
  context.should_prune = [&](const EpochMetrics&) { return ++asked == 1; };
  const Evaluation pruned = evaluator->evaluate(architecture, context);
  EXPECT_EQ(pruned.state, TrialState::kPruned);
  ASSERT_EQ(pruned.epochs.size(), 1u);
  EXPECT_EQ(pruned.validation_accuracy, pruned.epochs.back().validation_accuracy);

  asked = 0;
  context.should_prune = [&](const EpochMetrics&) { return ++asked == 0; };
  const Evaluation complete = evaluator->evaluate(architecture, context);
  EXPECT_EQ(complete.state, TrialState::kComplete);
  EXPECT_EQ(complete.epochs.size(), 3u);
  EXPECT_EQ(asked, 2);
}

TEST_F(CheapSearchTest, ProxyStudyScoresTrainsAndCorrelatesEverySample) {
  const ExperimentConfig config =
      parse_experiment_config(config_text(data_dir_, 3, ""), "cheap.yaml");
  ProxyStudyOptions options;
  options.samples = 5;
  options.train_epochs = 1;
  options.batch_size = 16;
  int64_t reported = 0;
  const ProxyStudyResult result =
      run_proxy_study(config, options, [&](const ProxyStudyRow&, int64_t index, int64_t total) {
        EXPECT_EQ(index, reported++);
        EXPECT_EQ(total, 5);
      });

  ASSERT_EQ(result.rows.size(), 5u);
  std::set<std::string> architectures;
  for (const auto& row : result.rows) {
    architectures.insert(row.architecture);
    EXPECT_EQ(row.scores.size(), proxy_names().size());
    EXPECT_EQ(row.scores.at("params"), static_cast<double>(row.params));
    EXPECT_GE(row.validation_accuracy, 0.0);
    EXPECT_LE(row.validation_accuracy, 1.0);
  }
  EXPECT_EQ(architectures.size(), 5u);
  ASSERT_EQ(result.correlations.size(), proxy_names().size());
  for (size_t i = 0; i < result.correlations.size(); ++i) {
    EXPECT_EQ(result.correlations[i].proxy, proxy_names()[i]);
    const double spearman = result.correlations[i].spearman;
    EXPECT_TRUE(std::isnan(spearman) || (spearman >= -1.0 && spearman <= 1.0));
  }
  const nlohmann::json json = proxy_study_json(result);
  EXPECT_EQ(json["architectures"].size(), 5u);
  EXPECT_EQ(json["correlations"].size(), proxy_names().size());
  EXPECT_EQ(json["train_epochs"], 1);

  options.samples = 2;
  try {
    run_proxy_study(config, options);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "--samples: expected at least 3 architectures, found 2");
  }
}

TEST_F(CheapSearchTest, ProxiesCommandPrintsTheTableAndWritesJson) {
  const std::string directory = fresh_directory("cheap_command");
  const std::string config_path = directory + "/cheap.yaml";
  write_text(config_path, config_text(data_dir_, 3, ""));
  const std::string json_path = directory + "/proxies.json";
  int status = 0;
  const std::string output =
      run_command(fmt::format("{} proxies {} --samples 3 --train-epochs 1 --batch-size 8 "
                              "--json {} 2>/dev/null",
                              NASCENT_BINARY, config_path, json_path),
                  status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("proxy       spearman   kendall    seconds"), std::string::npos) << output;
  for (const auto& name : proxy_names()) {
    EXPECT_NE(output.find("\n" + name + " "), std::string::npos) << name << "\n" << output;
  }
  std::ifstream json_file(json_path);
  const nlohmann::json json = nlohmann::json::parse(json_file);
  EXPECT_EQ(json["architectures"].size(), 3u);

  const std::string refused = run_command(
      fmt::format("{} proxies {} --samples 3 --train-epochs 1 --json {}/missing/x.json 2>&1",
                  NASCENT_BINARY, config_path, directory),
      status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(refused, fmt::format("nascent: error: --json: expected a writable file, found "
                                 "'{}/missing/x.json' cannot be opened\n",
                                 directory));
}

// Halving every width: stem 8 -> 4, conv 16 -> 8, mbconv hidden 8 * 2 -> 4 * 2, a skip across
// equal widths still adds up, and the logits keep the class count.
TEST(LowFidelityTest, WidthMultiplierNarrowsEveryLayer) {
  MacroSpaceOptions space_options;
  space_options.stem_width = Decision::categorical("", {"8"});
  space_options.stages = Decision::integer("", 1, 1);
  space_options.depth = Decision::integer("", 2, 2);
  space_options.downsample = Decision::categorical("", {"none"});
  space_options.op = Decision::categorical("", {"conv", "mbconv"});
  space_options.width = Decision::categorical("", {"16"});
  space_options.kernel = Decision::categorical("", {"3"});
  space_options.expansion = Decision::categorical("", {"2"});
  space_options.activation = Decision::categorical("", {"relu"});
  space_options.batch_norm = Decision::categorical("", {"true"});
  space_options.skip = Decision::categorical("", {"none", "1"});
  space_options.dense_layers = Decision::integer("", 1, 1);
  space_options.dense_width = Decision::categorical("", {"32"});
  space_options.dropout = Decision::categorical("", {"0"});
  const SearchSpace space = make_macro_space(space_options);
  const Architecture architecture = space.parse(
      "stem.width=8 stages=1 s1.depth=2 s1.downsample=none s1.l1.op=conv s1.l1.width=16 "
      "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true s1.l1.skip=none "
      "s1.l2.op=mbconv s1.l2.width=16 s1.l2.kernel=3 s1.l2.expansion=2 s1.l2.activation=relu "
      "s1.l2.batch_norm=true s1.l2.skip=1 head.dense_layers=1 head.dense1.width=32 "
      "head.dropout=0");
  NetworkFamily family;
  const BuiltNetwork full = build_network(family, architecture, {1, 8, 8}, 3);
  family.width_multiplier = 0.5;
  const BuiltNetwork narrow = build_network(family, architecture, {1, 8, 8}, 3);

  // Stem conv 1->4 (36) + BN (8); conv 4->8 k3 (288) + BN (16); mbconv 8->16->16->8 with a
  // depthwise 3x3: 128 + 32 + 144 + 32 + 128 + 16; dense 8->16 (144); classifier 16->3 (51).
  EXPECT_EQ(count_parameters(*narrow.module),
            36 + 8 + 288 + 16 + 128 + 32 + 144 + 32 + 128 + 16 + 144 + 51);
  EXPECT_LT(count_parameters(*narrow.module), count_parameters(*full.module));
  torch::NoGradGuard no_grad;
  narrow.module->eval();
  EXPECT_EQ(narrow.forward(torch::zeros({2, 1, 8, 8})).sizes(), (std::vector<int64_t>{2, 3}));
}

}  // namespace
}  // namespace nascent
