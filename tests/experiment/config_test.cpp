#include "nascent/experiment/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "nascent/core/error.h"
#include "test_support.h"

namespace nascent {
namespace {

namespace fs = std::filesystem;

/// The ConfigError that parsing `text` as "experiment.yaml" throws; fails the test otherwise.
ConfigError config_error(const std::string& text) {
  try {
    parse_experiment_config(text, "experiment.yaml");
  } catch (const ConfigError& error) {
    return error;
  }
  ADD_FAILURE() << "expected nascent::ConfigError for:\n" << text;
  return ConfigError("", 0, "", "");
}

// Line numbers of the YAML texts below are given in the comment at the end of each line.

constexpr const char* kMinimal =
    "space:\n"            // 1
    "  family: macro\n"   // 2
    "budget:\n"           // 3
    "  max_trials: 5\n";  // 4

TEST(ExperimentConfig, MinimalConfigTakesTheDefaults) {
  const ExperimentConfig config = parse_experiment_config(kMinimal, "minimal.yaml");
  EXPECT_EQ(config.path, "minimal.yaml");
  EXPECT_EQ(config.text, kMinimal);
  EXPECT_EQ(config.study, "study");
  EXPECT_EQ(config.seed, 0u);
  EXPECT_EQ(config.threads, 2);
  EXPECT_EQ(config.data.dataset, "fashion-mnist");
  // The line of the "space:" key itself.
  EXPECT_EQ(config.space_line, 1);
  EXPECT_EQ(config.space.family(), "macro");
  EXPECT_EQ(config.space.decisions().size(),
            make_macro_space(MacroSpaceOptions()).decisions().size());
  EXPECT_EQ(config.strategy.name, "evolution");
  EXPECT_EQ(config.budget.max_trials, 5);
  EXPECT_EQ(config.budget.time_limit_min, 0.0);
  EXPECT_EQ(config.train.epochs, 2);
  // The final model trains at least ten epochs unless told otherwise.
  EXPECT_EQ(config.final.train.epochs, 10);
}

TEST(ExperimentConfig, SectionsOverrideTheDefaults) {
  const ExperimentConfig config = parse_experiment_config(
      "study: tiny\n"
      "seed: 7\n"
      "space:\n"
      "  stages: {min: 1, max: 2}\n"
      "  op: [conv, sep_conv]\n"
      "  dropout: {min: 0.0, max: 0.3}\n"
      "strategy: {name: random}\n"
      "budget: {time_limit_min: 1.5}\n"
      "train: {epochs: 3, optimizer: adamw, learning_rate: 0.001}\n"
      "final: {epochs: 4}\n",
      "tiny.yaml");
  EXPECT_EQ(config.study, "tiny");
  EXPECT_EQ(config.seed, 7u);
  EXPECT_EQ(config.space_line, 3);
  EXPECT_EQ(config.space.find("stages")->describe_domain(), "an integer in [1, 2]");
  EXPECT_EQ(config.space.find("s1.l1.op")->describe_domain(), "one of conv or sep_conv");
  EXPECT_EQ(config.space.find("head.dropout")->describe_domain(), "a number in [0, 0.3]");
  EXPECT_EQ(config.strategy.name, "random");
  EXPECT_EQ(config.budget.max_trials, 0);
  EXPECT_DOUBLE_EQ(config.budget.time_limit_min, 1.5);
  EXPECT_EQ(config.train.epochs, 3);
  EXPECT_EQ(config.train.optimizer, "adamw");
  EXPECT_DOUBLE_EQ(config.train.learning_rate, 0.001);
  // `final` starts from `train` and overrides what it names.
  EXPECT_EQ(config.final.train.epochs, 4);
  EXPECT_EQ(config.final.train.optimizer, "adamw");
}

TEST(ExperimentConfig, UnknownTopLevelKeySuggestsTheClosest) {
  const ConfigError error = config_error(
      "space:\n"             // 1
      "  family: macro\n"    // 2
      "budgte:\n"            // 3
      "  max_trials: 5\n");  // 4
  EXPECT_EQ(error.file(), "experiment.yaml");
  EXPECT_EQ(error.line(), 3);
  EXPECT_EQ(error.key_path(), "budgte");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:3: budgte: unknown key; expected one of study, seed, threads, "
               "data, space, strategy, budget, train, final, proxy, pruning, fidelity or "
               "objectives (did you mean 'budget'?)");
}

TEST(ExperimentConfig, UnknownTrainKeySuggestsTheClosest) {
  const ConfigError error = config_error(
      "space:\n"                 // 1
      "  family: macro\n"        // 2
      "budget:\n"                // 3
      "  max_trials: 5\n"        // 4
      "train:\n"                 // 5
      "  epochs: 1\n"            // 6
      "  learnin_rate: 0.1\n");  // 7
  EXPECT_EQ(error.file(), "experiment.yaml");
  EXPECT_EQ(error.line(), 7);
  EXPECT_EQ(error.key_path(), "train.learnin_rate");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:7: train.learnin_rate: unknown key; expected one of epochs, "
               "batch_size, optimizer, learning_rate, momentum, nesterov, weight_decay, "
               "warmup_epochs, label_smoothing, crop_padding, horizontal_flip, "
               "eval_batch_size, channels_last or precise_batch_norm (did you mean "
               "'learning_rate'?)");
}

TEST(ExperimentConfig, ChannelsLastIsOnByDefaultAndCanBeTurnedOffPerSection) {
  const std::string base =
      "space:\n"
      "  family: macro\n"
      "budget:\n"
      "  max_trials: 5\n";
  const ExperimentConfig defaults = parse_experiment_config(base, "experiment.yaml");
  EXPECT_TRUE(defaults.train.channels_last);
  EXPECT_TRUE(defaults.final.train.channels_last);

  // final starts from train's settings; its own key overrides them.
  const ExperimentConfig plain = parse_experiment_config(
      base + "train:\n  channels_last: false\nfinal:\n  channels_last: true\n", "experiment.yaml");
  EXPECT_FALSE(plain.train.channels_last);
  EXPECT_TRUE(plain.final.train.channels_last);

  const ConfigError error = config_error(base + "train:\n  channels_last: sometimes\n");
  EXPECT_EQ(error.line(), 6);
  EXPECT_EQ(error.key_path(), "train.channels_last");
}

TEST(ExperimentConfig, BooleansTakeEveryCoreSchemaSpellingAndNothingElse) {
  const std::string base = "space:\n  family: macro\nbudget:\n  max_trials: 5\ntrain:\n";
  for (const std::string spelling : {"true", "True", "TRUE"}) {
    EXPECT_TRUE(parse_experiment_config(base + "  channels_last: " + spelling + "\n", "e.yaml")
                    .train.channels_last)
        << spelling;
  }
  for (const std::string spelling : {"false", "False", "FALSE"}) {
    EXPECT_FALSE(parse_experiment_config(base + "  channels_last: " + spelling + "\n", "e.yaml")
                     .train.channels_last)
        << spelling;
  }
  for (const std::string spelling : {"yes", "on", "1", "tRUE"}) {
    const ConfigError error = config_error(base + "  channels_last: " + spelling + "\n");
    EXPECT_EQ(error.key_path(), "train.channels_last") << spelling;
    EXPECT_STREQ(error.what(), ("experiment.yaml:6: train.channels_last: expected a boolean (true "
                                "or false), found '" +
                                spelling + "'")
                                   .c_str());
  }
}

TEST(ExperimentConfig, AQuotedBooleanIsAStringAndRefused) {
  const ConfigError quoted = config_error(std::string(kMinimal) +
                                          "strategy:\n"                        // 5
                                          "  name: local\n"                    // 6
                                          "  first_improvement: \"true\"\n");  // 7
  EXPECT_STREQ(quoted.what(),
               "experiment.yaml:7: strategy.first_improvement: expected a boolean (true or "
               "false), found the string \"true\"");

  const ConfigError single_quoted =
      config_error(std::string(kMinimal) + "train:\n  channels_last: 'False'\n");
  EXPECT_STREQ(single_quoted.what(),
               "experiment.yaml:6: train.channels_last: expected a boolean (true or false), found "
               "the string \"False\"");

  const ConfigError tagged =
      config_error(std::string(kMinimal) + "train:\n  channels_last: !!str true\n");
  EXPECT_EQ(tagged.key_path(), "train.channels_last");

  // Choices of a space aspect are read the same way.
  const ConfigError choice = config_error(
      "space:\n  family: macro\n  batch_norm: [true, \"false\"]\nbudget:\n  max_trials: 5\n");
  EXPECT_EQ(choice.key_path(), "space.batch_norm[1]");
  EXPECT_EQ(choice.line(), 3);
}

TEST(ExperimentConfig, WrongTypeNamesExpectedAndFound) {
  const ConfigError error = config_error(
      "space:\n"            // 1
      "  family: macro\n"   // 2
      "budget:\n"           // 3
      "  max_trials: 5\n"   // 4
      "train:\n"            // 5
      "  epochs: many\n");  // 6
  EXPECT_EQ(error.file(), "experiment.yaml");
  EXPECT_EQ(error.line(), 6);
  EXPECT_EQ(error.key_path(), "train.epochs");
  EXPECT_STREQ(error.what(), "experiment.yaml:6: train.epochs: expected an integer, found 'many'");
}

TEST(ExperimentConfig, OutOfRangeTrainValueNamesItsLine) {
  const ConfigError error = config_error(
      "space:\n"             // 1
      "  family: macro\n"    // 2
      "budget:\n"            // 3
      "  max_trials: 5\n"    // 4
      "final:\n"             // 5
      "  crop_padding: 2\n"  // 6
      "  epochs: 0\n");      // 7
  EXPECT_EQ(error.line(), 7);
  EXPECT_EQ(error.key_path(), "final.epochs");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:7: final.epochs: expected an integer from 1 to 100000, found 0");
}

TEST(ExperimentConfig, ReversedRangeNamesExpectedAndFound) {
  const ConfigError error = config_error(
      "space:\n"                           // 1
      "  family: macro\n"                  // 2
      "  dropout: {min: 0.5, max: 0.1}\n"  // 3
      "budget:\n"                          // 4
      "  max_trials: 5\n");                // 5
  EXPECT_EQ(error.file(), "experiment.yaml");
  EXPECT_EQ(error.line(), 3);
  EXPECT_EQ(error.key_path(), "space.dropout");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:3: space.dropout: expected min <= max, found [0.5, 0.1]");
}

TEST(ExperimentConfig, UnknownOperationSuggestsTheClosest) {
  const ConfigError error = config_error(
      "space:\n"                 // 1
      "  family: macro\n"        // 2
      "  op: [conv, sepconv]\n"  // 3
      "budget:\n"                // 4
      "  max_trials: 5\n");      // 5
  EXPECT_EQ(error.file(), "experiment.yaml");
  EXPECT_EQ(error.line(), 3);
  EXPECT_EQ(error.key_path(), "space.op");
  const std::string message = error.what();
  EXPECT_EQ(message.rfind("experiment.yaml:3: space.op: ", 0), 0u) << message;
  EXPECT_NE(message.find("expected conv, sep_conv, mbconv, max_pool, avg_pool or identity, "
                         "found 'sepconv' (did you mean 'sep_conv'?)"),
            std::string::npos)
      << message;
}

TEST(ExperimentConfig, EvenKernelPointsAtTheKernelLine) {
  const ConfigError error = config_error(
      "space:\n"             // 1
      "  stages: 2\n"        // 2
      "  kernel: [3, 4]\n"   // 3
      "budget:\n"            // 4
      "  max_trials: 5\n");  // 5
  EXPECT_EQ(error.line(), 3);
  EXPECT_EQ(error.key_path(), "space.kernel");
  EXPECT_NE(std::string(error.what())
                .find("expected odd sizes (so padding keeps the shape), "
                      "found 4"),
            std::string::npos)
      << error.what();
}

TEST(ExperimentConfig, MissingBudgetSection) {
  const ConfigError error = config_error(
      "# A search without a budget.\n"  // 1
      "seed: 1\n"                       // 2
      "space:\n"                        // 3
      "  family: macro\n");             // 4
  EXPECT_EQ(error.file(), "experiment.yaml");
  // A missing key has no line of its own.
  EXPECT_EQ(error.line(), 0);
  EXPECT_EQ(error.key_path(), "budget");
  EXPECT_STREQ(error.what(),
               "experiment.yaml: budget: expected a 'budget' section with max_trials and/or "
               "time_limit_min, found none");
}

TEST(ExperimentConfig, BudgetWithoutALimit) {
  const ConfigError error = config_error(
      "space:\n"               // 1
      "  family: macro\n"      // 2
      "budget:\n"              // 3
      "  max_trials: 0\n"      // 4
      "  time_limit_min: 0\n"  // 5
      "train:\n"               // 6
      "  epochs: 1\n");        // 7
  EXPECT_EQ(error.file(), "experiment.yaml");
  // The line of the "budget:" key.
  EXPECT_EQ(error.line(), 3);
  EXPECT_EQ(error.key_path(), "budget");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:3: budget: expected max_trials and/or time_limit_min above 0, "
               "found no limit");

  const ConfigError empty = config_error(
      "space:\n"           // 1
      "  family: macro\n"  // 2
      "budget: {}\n");     // 3
  EXPECT_EQ(empty.line(), 3);
  EXPECT_EQ(empty.key_path(), "budget");
}

TEST(ExperimentConfig, StrategyNameTypoSuggestsTheClosest) {
  const ConfigError error = config_error(
      "space:\n"             // 1
      "  family: macro\n"    // 2
      "strategy:\n"          // 3
      "  name: evolutoin\n"  // 4
      "  population: 8\n"    // 5
      "budget:\n"            // 6
      "  max_trials: 5\n");  // 7
  EXPECT_EQ(error.file(), "experiment.yaml");
  EXPECT_EQ(error.line(), 4);
  EXPECT_EQ(error.key_path(), "strategy.name");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:4: strategy.name: expected random, evolution, local, reinforce, "
               "bo, sh, hyperband, bohb, nsga2 or darts, found 'evolutoin' (did you mean "
               "'evolution'?)");
}

TEST(ExperimentConfig, StrategyOptionsOfLocalReinforceAndBo) {
  const auto parsed = [](const std::string& strategy_section) {
    return parse_experiment_config(std::string(kMinimal) + strategy_section, "experiment.yaml")
        .strategy;
  };
  const StrategyOptions local =
      parsed("strategy: {name: local, first_improvement: false, initial_random: 20}\n");
  EXPECT_EQ(local.name, "local");
  EXPECT_FALSE(local.first_improvement);
  EXPECT_EQ(local.initial_random, 20);

  const StrategyOptions reinforce = parsed(
      "strategy: {name: reinforce, learning_rate: 0.05, baseline_decay: 0.95, entropy_weight: "
      "0}\n");
  EXPECT_DOUBLE_EQ(reinforce.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(reinforce.baseline_decay, 0.95);
  EXPECT_DOUBLE_EQ(reinforce.entropy_weight, 0.0);

  const StrategyOptions bo = parsed(
      "strategy: {name: bo, initial_random: 20, candidates: 200, parents: 5, acquisition: ucb, "
      "ucb_beta: 1.5}\n");
  EXPECT_EQ(bo.name, "bo");
  EXPECT_EQ(bo.initial_random, 20);
  EXPECT_EQ(bo.candidates, 200);
  EXPECT_EQ(bo.parents, 5);
  EXPECT_EQ(bo.acquisition, "ucb");
  EXPECT_DOUBLE_EQ(bo.ucb_beta, 1.5);

  // An option of another strategy would do nothing: it is refused, with its line. (Found by a
  // fresh-user test: `random` with `population: 5` used to run without a word.)
  const ConfigError error = config_error(std::string(kMinimal) +
                                         "strategy:\n"                     // 5
                                         "  name: bo\n"                    // 6
                                         "  first_improvement: false\n");  // 7
  EXPECT_EQ(error.line(), 7);
  EXPECT_EQ(error.key_path(), "strategy.first_improvement");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:7: strategy.first_improvement: expected an option that bo uses, "
               "found one for local only");
  EXPECT_THROW(parse_strategy_spec("random:population=5"), ConfigError);
  EXPECT_NO_THROW(parse_strategy_spec("nsga2:population=8"));

  // The options of the chosen strategy shape the search, so they are in the fingerprint.
  const ExperimentConfig other_beta = parse_experiment_config(
      std::string(kMinimal) + "strategy: {name: bo, ucb_beta: 2.5}\n", "experiment.yaml");
  const ExperimentConfig default_beta =
      parse_experiment_config(std::string(kMinimal) + "strategy: {name: bo}\n", "experiment.yaml");
  EXPECT_NE(search_fingerprint(other_beta), search_fingerprint(default_beta));

  // The GP's defaults written out give the fingerprint of a study that did not write them, so
  // studies made before the ensemble existed resume; the ensemble is a different search.
  const ExperimentConfig explicit_gp = parse_experiment_config(
      std::string(kMinimal) +
          "strategy: {name: bo, surrogate: gp, acquisition: ei, encoding: decisions, batch: 1, "
          "kernel: ard}\n",
      "experiment.yaml");
  EXPECT_EQ(search_fingerprint(explicit_gp), search_fingerprint(default_beta));
  const ExperimentConfig ensemble = parse_experiment_config(
      std::string(kMinimal) + "strategy: {name: bo, surrogate: ensemble}\n", "experiment.yaml");
  EXPECT_NE(search_fingerprint(ensemble), search_fingerprint(default_beta));
  EXPECT_NE(search_fingerprint(ensemble).find("acquisition=its"), std::string::npos);
  const ExperimentConfig isotropic = parse_experiment_config(
      std::string(kMinimal) + "strategy: {name: bo, kernel: isotropic}\n", "experiment.yaml");
  EXPECT_NE(search_fingerprint(isotropic), search_fingerprint(default_beta));
}

TEST(ExperimentConfig, MultiFidelityStrategiesGetAnEpochLadderEndingAtTrainEpochs) {
  const ExperimentConfig config = parse_experiment_config(
      std::string(kMinimal) +
          "strategy: {name: bohb, min_epochs: 2, eta: 2, random_fraction: 0.5, top_fraction: "
          "0.2, kde_samples: 32, bracket_size: 0}\ntrain: {epochs: 16}\n",
      "experiment.yaml");
  EXPECT_EQ(config.strategy.fidelities, (std::vector<int64_t>{2, 4, 8, 16}));
  EXPECT_DOUBLE_EQ(config.strategy.random_fraction, 0.5);
  EXPECT_DOUBLE_EQ(config.strategy.top_fraction, 0.2);
  EXPECT_EQ(config.strategy.kde_samples, 32);
  EXPECT_EQ(fidelity_ladder(1, 4, 3.0), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(fidelity_ladder(1, 9, 3.0), (std::vector<int64_t>{1, 3, 9}));
  EXPECT_EQ(fidelity_ladder(5, 5, 3.0), (std::vector<int64_t>{5}));

  // The ladder is part of the search, so it is in the fingerprint.
  const ExperimentConfig other_eta = parse_experiment_config(
      std::string(kMinimal) + "strategy: {name: bohb, eta: 3}\ntrain: {epochs: 16}\n",
      "experiment.yaml");
  EXPECT_NE(search_fingerprint(other_eta), search_fingerprint(config));

  const ConfigError error = config_error(std::string(kMinimal) +
                                         "strategy:\n"             // 5
                                         "  name: hyperband\n"     // 6
                                         "  min_epochs: 12\n"      // 7
                                         "train: {epochs: 9}\n");  // 8
  EXPECT_EQ(error.line(), 7);
  EXPECT_EQ(error.key_path(), "strategy.min_epochs");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:7: strategy.min_epochs: expected an integer in [1, "
               "train.epochs=9], found 12");
}

TEST(ExperimentConfig, StrategySpecsReadTheKeysOfTheStrategySection) {
  const StrategyOptions lstm = parse_strategy_spec("reinforce:controller=lstm:hidden_size=16");
  EXPECT_EQ(lstm.name, "reinforce");
  EXPECT_EQ(lstm.controller, "lstm");
  EXPECT_EQ(lstm.hidden_size, 16);
  EXPECT_EQ(parse_strategy_spec("bo").name, "bo");
  EXPECT_EQ(parse_strategy_spec("bo:encoding=features").encoding, "features");

  // BANANAS: the ensemble brings its own acquisition, encoding and batch unless they are set.
  const StrategyOptions gp = parse_strategy_spec("bo");
  EXPECT_EQ(gp.bo_acquisition(), "ei");
  EXPECT_EQ(gp.bo_encoding(), "decisions");
  EXPECT_EQ(gp.bo_batch(), 1);
  const StrategyOptions bananas = parse_strategy_spec("bo:surrogate=ensemble");
  EXPECT_EQ(bananas.surrogate, "ensemble");
  EXPECT_EQ(bananas.bo_acquisition(), "its");
  EXPECT_EQ(bananas.bo_encoding(), "features");
  EXPECT_EQ(bananas.bo_batch(), 10);
  const StrategyOptions custom =
      parse_strategy_spec("bo:surrogate=ensemble:acquisition=ucb:encoding=decisions:batch=1");
  EXPECT_EQ(custom.bo_acquisition(), "ucb");
  EXPECT_EQ(custom.bo_encoding(), "decisions");
  EXPECT_EQ(custom.bo_batch(), 1);

  // A length scale per decision unless asked otherwise; path features share one.
  EXPECT_EQ(gp.bo_kernel(), "ard");
  EXPECT_EQ(parse_strategy_spec("bo:kernel=isotropic").bo_kernel(), "isotropic");
  EXPECT_EQ(parse_strategy_spec("bo:encoding=features").bo_kernel(), "isotropic");
  EXPECT_EQ(bananas.bo_kernel(), "isotropic");
  try {
    parse_strategy_spec("bo:kernel=ard:encoding=features");
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key_path(), "strategy.kernel");
    EXPECT_NE(std::string(error.what())
                  .find("expected isotropic with encoding features (ard weighs decisions), "
                        "found ard"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(parse_strategy_spec("bo:kernel=matern"), ConfigError);
  EXPECT_THROW(parse_strategy_spec("bo:surrogate=forest"), ConfigError);
  EXPECT_THROW(parse_strategy_spec("bo:batch=-1"), ConfigError);

  try {
    parse_strategy_spec("bo:candidates=many");
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key_path(), "strategy.candidates");
    EXPECT_NE(std::string(error.what()).find("strategy 'bo:candidates=many'"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(parse_strategy_spec("bo:candidates"), ConfigError);
  EXPECT_THROW(parse_strategy_spec("bo:colour=red"), ConfigError);
  EXPECT_THROW(parse_strategy_spec("reinforce:controller=gru"), ConfigError);
}

TEST(ExperimentConfig, AProxyPrefilterIsRefusedWithAMultiFidelityStrategy) {
  const ConfigError error =
      config_error(std::string(kMinimal) +
                   "strategy: hyperband\n"                                   // 5
                   "proxy: {use: prefilter, name: snip, candidates: 4}\n");  // 6
  EXPECT_EQ(error.line(), 6);
  EXPECT_EQ(error.key_path(), "proxy.use");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:6: proxy.use: expected none or evaluator with the "
               "multi-fidelity strategy hyperband, found 'prefilter'");
}

TEST(ExperimentConfig, DartsTakesItsOptionsAndNeedsTheCellSpace) {
  const ExperimentConfig config = parse_experiment_config(
      "space: {family: nasbench201, cells_per_stage: 1}\n"
      "strategy: {name: darts, supernet_epochs: 3, architecture_learning_rate: 0.001, "
      "architecture_weight_decay: 0}\n"
      "budget: {max_trials: 2}\n",
      "experiment.yaml");
  EXPECT_EQ(config.strategy.supernet_epochs, 3);
  EXPECT_EQ(config.strategy.architecture_learning_rate, 0.001);
  EXPECT_EQ(config.strategy.architecture_weight_decay, 0.0);
  EXPECT_NE(search_fingerprint(config).find("supernet_epochs=3 architecture_learning_rate=0.001"),
            std::string::npos);

  EXPECT_STREQ(config_error(std::string(kMinimal) + "strategy:\n"       // 5
                                                    "  name: darts\n")  // 6
                   .what(),
               "experiment.yaml:6: strategy.name: expected a strategy for space family 'macro', "
               "found 'darts', which needs space: nasbench201");
  EXPECT_STREQ(config_error("space: {family: nasbench201}\n"                 // 1
                            "strategy: {name: darts, supernet_epochs: 0}\n"  // 2
                            "budget: {max_trials: 2}\n")
                   .what(),
               "experiment.yaml:2: strategy.supernet_epochs: expected an integer >= 1, found 0");
  EXPECT_STREQ(config_error("space: {family: nasbench201}\n"                  // 1
                            "strategy: {name: random, supernet_epochs: 2}\n"  // 2
                            "budget: {max_trials: 2}\n")
                   .what(),
               "experiment.yaml:2: strategy.supernet_epochs: expected an option that random "
               "uses, found one for darts only");
  EXPECT_STREQ(config_error("space: {family: nasbench201}\n"  // 1
                            "strategy: darts\n"               // 2
                            "budget: {max_trials: 2}\n"       // 3
                            "proxy: {use: prefilter}\n")      // 4
                   .what(),
               "experiment.yaml:4: proxy.use: expected none with strategy darts (the supernet "
               "ranks the architectures), found 'prefilter'");
}

TEST(ExperimentConfig, BadStrategyOptionNamesItsLine) {
  const ConfigError error = config_error(std::string(kMinimal) +
                                         "strategy:\n"            // 5
                                         "  name: bo\n"           // 6
                                         "  acquisition: pi\n");  // 7
  EXPECT_EQ(error.line(), 7);
  EXPECT_EQ(error.key_path(), "strategy.acquisition");
  EXPECT_STREQ(error.what(),
               "experiment.yaml:7: strategy.acquisition: expected ei, ucb or its, found 'pi'");

  const ConfigError rate = config_error(std::string(kMinimal) +
                                        "strategy:\n"                // 5
                                        "  name: reinforce\n"        // 6
                                        "  learning_rate: fast\n");  // 7
  EXPECT_EQ(rate.line(), 7);
  EXPECT_STREQ(rate.what(),
               "experiment.yaml:7: strategy.learning_rate: expected a number, found 'fast'");
}

TEST(ExperimentConfig, InvalidYamlGivesTheLine) {
  const ConfigError error = config_error(
      "space:\n"           // 1
      "  family: macro\n"  // 2
      " budget: 3\n");     // 3: indented by one space
  EXPECT_EQ(error.file(), "experiment.yaml");
  EXPECT_EQ(error.line(), 3);
  EXPECT_EQ(error.key_path(), "");
  EXPECT_STREQ(error.what(), "experiment.yaml:3: invalid YAML: end of map not found");
}

TEST(ExperimentConfig, EmptyFileIsRefused) {
  const ConfigError error = config_error("");
  EXPECT_EQ(error.line(), 0);
  EXPECT_STREQ(error.what(),
               "experiment.yaml: expected a mapping of sections (study, data, space, strategy, "
               "budget, train, final), found nothing");
}

TEST(ExperimentConfig, MissingFileNamesThePath) {
  const std::string directory = testing_support::fresh_directory("config_missing_file");
  const std::string path = directory + "/absent.yaml";
  try {
    load_experiment_config(path);
    ADD_FAILURE() << "expected nascent::ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.file(), path);
    EXPECT_EQ(error.line(), 0);
    EXPECT_EQ(error.key_path(), "");
    EXPECT_EQ(std::string(error.what()),
              path + ": expected a readable experiment file (YAML), found none at this path");
  }
  fs::remove_all(directory);
}

TEST(ExperimentConfig, ErrorsOfALoadedFileNameThatFile) {
  const std::string directory = testing_support::fresh_directory("config_loaded_file");
  const std::string path = directory + "/typo.yaml";
  testing_support::write_text(path, "space:\n  family: macro\nbudgte:\n  max_trials: 5\n");

  try {
    load_experiment_config(path);
    ADD_FAILURE() << "expected nascent::ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.file(), path);
    EXPECT_EQ(error.line(), 3);
    EXPECT_EQ(std::string(error.what()).rfind(path + ":3: budgte: unknown key", 0), 0u)
        << error.what();
  }
  fs::remove_all(directory);
}

TEST(ExperimentConfig, FashionMnistExampleParses) {
  // tests/experiment/config_test.cpp -> the repository root.
  const fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  const std::string path = (root / "examples" / "fashion_mnist.yaml").string();
  ASSERT_TRUE(fs::exists(path)) << path;

  const ExperimentConfig config = load_experiment_config(path);
  EXPECT_EQ(config.path, path);
  EXPECT_EQ(config.study, "fashion-mnist-macro");
  EXPECT_EQ(config.data.dataset, "fashion-mnist");
  EXPECT_EQ(config.data.search_train_size, 10000);
  EXPECT_EQ(config.space.family(), "macro");
  EXPECT_EQ(config.space.find("stages")->describe_domain(), "an integer in [2, 3]");
  EXPECT_EQ(config.strategy.name, "evolution");
  EXPECT_EQ(config.strategy.population_size, 10);
  EXPECT_EQ(config.strategy.sample_size, 3);
  EXPECT_GT(config.budget.time_limit_min, 0.0);
  EXPECT_GT(config.cost_limits.max_flops, 0);
  EXPECT_GT(config.final.train.epochs, config.train.epochs);
  EXPECT_TRUE(config.final.train.horizontal_flip);
  EXPECT_FALSE(config.train.horizontal_flip);
}

TEST(ExperimentConfig, FingerprintFollowsWhatShapesTheSearch) {
  const ExperimentConfig base = parse_experiment_config(kMinimal, "a.yaml");
  const ExperimentConfig same = parse_experiment_config(kMinimal, "b.yaml");
  EXPECT_EQ(search_fingerprint(base), search_fingerprint(same));

  const ExperimentConfig other_seed =
      parse_experiment_config(std::string(kMinimal) + "seed: 3\n", "a.yaml");
  EXPECT_NE(search_fingerprint(base), search_fingerprint(other_seed));

  // The budget does not shape the search: a study may be resumed with a larger one.
  const ExperimentConfig larger_budget =
      parse_experiment_config("space:\n  family: macro\nbudget:\n  max_trials: 50\n", "a.yaml");
  EXPECT_EQ(search_fingerprint(base), search_fingerprint(larger_budget));
}

// Found by a fresh-user test: threads: 100000 was taken, and LibTorch took minutes and
// hundreds of gigabytes of address space to start that many.
TEST(ExperimentConfig, ThreadsAreBoundedAsTheCommandLinesAre) {
  EXPECT_EQ(parse_experiment_config(std::string(kMinimal) + "threads: 256\n", "t.yaml").threads,
            256);
  EXPECT_STREQ(config_error(std::string(kMinimal) + "threads: 100000\n").what(),
               "experiment.yaml:5: threads: expected an integer in [1, 256], found 100000");
  EXPECT_STREQ(config_error(std::string(kMinimal) + "threads: 0\n").what(),
               "experiment.yaml:5: threads: expected an integer in [1, 256], found 0");
}

// Found by a fresh-user test: a study name or data directory that is not UTF-8 (valid in a Linux
// path) trained every trial and then failed writing summary.json.
TEST(ExperimentConfig, TextThatIsNotUtf8IsRefusedWithItsKey) {
  EXPECT_STREQ(config_error(std::string(kMinimal) + "study: \"caf\xe9\xff\"\n").what(),
               "experiment.yaml:5: study: expected UTF-8 text, found 'caf\\xE9\\xFF', whose "
               "byte 4 (0xE9) is not UTF-8");
  EXPECT_STREQ(config_error(std::string(kMinimal) + "data:\n  directory: caf\xe9\n").what(),
               "experiment.yaml:6: data.directory: expected UTF-8 text, found 'caf\\xE9', whose "
               "byte 4 (0xE9) is not UTF-8");
  EXPECT_EQ(parse_experiment_config(std::string(kMinimal) + "study: caf\xc3\xa9\n", "t.yaml").study,
            "caf\xc3\xa9");
}

// Found by a fresh-user test: reinforce's default controller took the LSTM's options without a
// word, though options a strategy does not use are refused.
TEST(ExperimentConfig, LstmOptionsAreRefusedWithTheFactorisedController) {
  const std::string reinforce = std::string(kMinimal) + "strategy:\n  name: reinforce\n";
  EXPECT_STREQ(config_error(reinforce + "  hidden_size: 16\n").what(),
               "experiment.yaml:7: strategy.hidden_size: expected an option that reinforce with "
               "controller factorised uses, found one for controller lstm only");
  EXPECT_STREQ(config_error(reinforce + "  controller: factorised\n  controller_learning_rate: "
                                        "0.1\n")
                   .what(),
               "experiment.yaml:8: strategy.controller_learning_rate: expected an option that "
               "reinforce with controller factorised uses, found one for controller lstm only");
  const ExperimentConfig lstm = parse_experiment_config(
      reinforce + "  controller: lstm\n  hidden_size: 16\n  controller_learning_rate: 0.1\n",
      "t.yaml");
  EXPECT_EQ(lstm.strategy.hidden_size, 16);
  try {
    parse_strategy_spec("reinforce:hidden_size=16");
    ADD_FAILURE() << "expected nascent::ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("strategy.hidden_size: expected an option that "
                        "reinforce with controller factorised uses"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

TEST(ExperimentConfig, ARepeatedKeyIsRefusedWithBothLines) {
  try {
    parse_experiment_config("seed: 0\nspace: {}\nseed: 1\nbudget: {max_trials: 1}\n", "dup.yaml");
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(),
                 "dup.yaml:3: seed: expected each key once, found it again (first at line 1)");
  }
}

}  // namespace
}  // namespace nascent
