// The experiment file's cheap-evaluation sections: proxy, pruning and fidelity.

#include <gtest/gtest.h>

#include <string>

#include "nascent/core/error.h"
#include "nascent/experiment/config.h"

namespace nascent {
namespace {

std::string with_sections(const std::string& sections) {
  return "space:\n"             // 1
         "  family: macro\n"    // 2
         "budget:\n"            // 3
         "  max_trials: 5\n" +  // 4
         sections;              // from line 5
}

std::string error_text(const std::string& sections) {
  try {
    parse_experiment_config(with_sections(sections), "experiment.yaml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected nascent::ConfigError for:\n" << sections;
  return "";
}

TEST(CheapEvaluationConfig, DefaultsTurnEverythingOff) {
  const ExperimentConfig config = parse_experiment_config(with_sections(""), "experiment.yaml");
  EXPECT_EQ(config.proxy.use, "none");
  EXPECT_FALSE(config.pruning.enabled());
  EXPECT_TRUE(config.fidelity.is_full());
  // Unused sections leave the fingerprint as it was before they existed.
  EXPECT_EQ(search_fingerprint(config).find("proxy:"), std::string::npos);
  EXPECT_EQ(search_fingerprint(config).find("pruning:"), std::string::npos);
  EXPECT_EQ(search_fingerprint(config).find("fidelity:"), std::string::npos);
}

TEST(CheapEvaluationConfig, SectionsAreRead) {
  const ExperimentConfig config = parse_experiment_config(
      with_sections("proxy: {use: prefilter, name: synflow, batch_size: 32, candidates: 8, "
                    "keep: 2}\n"
                    "pruning: {rule: asha, min_trials: 4, min_epochs: 2, reduction_factor: 2}\n"
                    "fidelity: {data_fraction: 0.25, width_multiplier: 0.5, resolution: 14}\n"),
      "experiment.yaml");
  EXPECT_EQ(config.proxy.use, "prefilter");
  EXPECT_EQ(config.proxy.name, "synflow");
  EXPECT_EQ(config.proxy.batch_size, 32);
  EXPECT_EQ(config.proxy.candidates, 8);
  EXPECT_EQ(config.proxy.keep, 2);
  EXPECT_EQ(config.pruning.rule, "asha");
  EXPECT_EQ(config.pruning.min_trials, 4);
  EXPECT_EQ(config.pruning.min_epochs, 2);
  EXPECT_EQ(config.pruning.reduction_factor, 2);
  EXPECT_DOUBLE_EQ(config.fidelity.data_fraction, 0.25);
  EXPECT_DOUBLE_EQ(config.fidelity.width_multiplier, 0.5);
  EXPECT_EQ(config.fidelity.resolution, 14);
  const std::string fingerprint = search_fingerprint(config);
  EXPECT_NE(fingerprint.find("proxy: use=prefilter name=synflow batch_size=32 candidates=8 keep=2"),
            std::string::npos);
  EXPECT_NE(fingerprint.find("pruning: rule=asha min_trials=4"), std::string::npos);
  EXPECT_NE(fingerprint.find("fidelity: data_fraction=0.25 width_multiplier=0.5 resolution=14"),
            std::string::npos);
}

TEST(CheapEvaluationConfig, BadValuesNameTheKeyTheLineAndWhatWasExpected) {
  EXPECT_EQ(error_text("proxy:\n  name: synflw\n"),
            "experiment.yaml:6: proxy.name: expected params, flops, grad_norm, snip, fisher, "
            "synflow, jacob_cov or naswot, found 'synflw' (did you mean 'synflow'?)");
  EXPECT_EQ(error_text("proxy:\n  use: prefiltre\n"),
            "experiment.yaml:6: proxy.use: expected none, evaluator, prefilter or warm_start, "
            "found 'prefiltre' (did you mean 'prefilter'?)");
  EXPECT_EQ(error_text("proxy:\n  candidates: 3\n  keep: 4\n"),
            "experiment.yaml:7: proxy.keep: expected at most proxy.candidates (3), found 4");
  EXPECT_EQ(error_text("pruning:\n  rule: median\n  min_trials: 0\n"),
            "experiment.yaml:7: pruning.min_trials: expected an integer >= 1, found 0");
  EXPECT_EQ(error_text("pruning:\n  rule: asha\n  reduction_factor: 1\n"),
            "experiment.yaml:7: pruning.reduction_factor: expected an integer >= 2, found 1");
  EXPECT_EQ(error_text("pruning:\n  rules: median\n"),
            "experiment.yaml:6: pruning.rules: unknown key; expected one of rule, min_trials, "
            "warmup_epochs, min_epochs or reduction_factor (did you mean 'rule'?)");
  EXPECT_EQ(error_text("fidelity:\n  data_fraction: 1.5\n"),
            "experiment.yaml:6: fidelity.data_fraction: expected a number in (0, 1], found 1.5");
  EXPECT_EQ(error_text("fidelity:\n  width_multiplier: 0\n"),
            "experiment.yaml:6: fidelity.width_multiplier: expected a number in (0, 1], found 0");
  EXPECT_EQ(error_text("fidelity:\n  resolution: -2\n"),
            "experiment.yaml:6: fidelity.resolution: expected an integer >= 0, found -2");
  EXPECT_EQ(error_text("proxy: {use: evaluator}\npruning: {rule: median}\n"),
            "experiment.yaml:6: pruning.rule: expected none when proxy.use is evaluator (nothing "
            "trains, so there is nothing to prune), found 'median'");
}

}  // namespace
}  // namespace nascent
