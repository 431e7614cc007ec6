#include "nascent/space/macro_space.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "nascent/core/error.h"
#include "nascent/core/text.h"

namespace nascent {

namespace {

/// Every value an integer-valued aspect can take.
std::vector<int64_t> integer_values(const Decision& domain, const std::string& aspect) {
  std::vector<int64_t> values;
  if (domain.kind == DecisionKind::kInteger) {
    for (int64_t v = domain.int_min; v <= domain.int_max; ++v) values.push_back(v);
    return values;
  }
  if (domain.kind == DecisionKind::kFloat) {
    throw Error(
        fmt::format("macro space: '{}' expected integer values, found a number range", aspect));
  }
  for (const auto& choice : domain.choices) {
    int64_t value = 0;
    const auto [end, error] = std::from_chars(choice.data(), choice.data() + choice.size(), value);
    if (error != std::errc() || end != choice.data() + choice.size()) {
      throw Error(
          fmt::format("macro space: '{}' expected integer values, found '{}'", aspect, choice));
    }
    values.push_back(value);
  }
  return values;
}

void require_integers_at_least(const Decision& domain, const std::string& aspect, int64_t minimum) {
  for (int64_t value : integer_values(domain, aspect)) {
    if (value < minimum) {
      throw Error(
          fmt::format("macro space: '{}' expected values >= {}, found {}", aspect, minimum, value));
    }
  }
}

void require_known(const Decision& domain, const std::string& aspect,
                   const std::vector<std::string>& known) {
  if (domain.kind != DecisionKind::kCategorical) {
    throw Error(fmt::format("macro space: '{}' expected a list of names ({}), found a range",
                            aspect, join_choices(known)));
  }
  for (const auto& choice : domain.choices) {
    if (std::find(known.begin(), known.end(), choice) == known.end()) {
      const auto hint = closest_match(choice, known);
      throw Error(fmt::format("macro space: '{}' expected {}, found '{}'{}", aspect,
                              join_choices(known), choice,
                              hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
    }
  }
}

Decision named(const Decision& domain, std::string name) {
  Decision decision = domain;
  decision.name = std::move(name);
  decision.conditions.clear();
  return decision;
}

/// The chosen operations that have a given parameter.
std::vector<std::string> operations_with(const std::vector<std::string>& chosen,
                                         const std::vector<std::string>& having) {
  std::vector<std::string> result;
  for (const auto& op : chosen) {
    if (std::find(having.begin(), having.end(), op) != having.end()) result.push_back(op);
  }
  return result;
}

}  // namespace

const std::vector<std::string>& macro_operations() {
  static const std::vector<std::string> operations = {"conv",     "sep_conv", "mbconv",
                                                      "max_pool", "avg_pool", "identity"};
  return operations;
}

const std::vector<std::string>& macro_activations() {
  static const std::vector<std::string> activations = {"relu", "relu6", "gelu",   "silu",
                                                       "elu",  "tanh",  "sigmoid"};
  return activations;
}

const std::vector<std::string>& macro_downsampling_modes() {
  static const std::vector<std::string> modes = {"none", "max_pool", "avg_pool", "stride"};
  return modes;
}

SearchSpace make_macro_space(const MacroSpaceOptions& options) {
  // Check every aspect's domain before expanding, so errors name the aspect, not a decision.
  require_integers_at_least(options.stem_width, "stem_width", 1);
  require_integers_at_least(options.stages, "stages", 1);
  require_integers_at_least(options.depth, "depth", 1);
  require_known(options.downsample, "downsample", macro_downsampling_modes());
  require_known(options.op, "op", macro_operations());
  require_integers_at_least(options.width, "width", 1);
  require_integers_at_least(options.kernel, "kernel", 1);
  for (int64_t kernel : integer_values(options.kernel, "kernel")) {
    if (kernel % 2 == 0) {
      throw Error(
          fmt::format("macro space: 'kernel' expected odd sizes (so padding keeps the "
                      "shape), found {}",
                      kernel));
    }
  }
  require_integers_at_least(options.expansion, "expansion", 1);
  require_known(options.activation, "activation", macro_activations());
  require_known(options.batch_norm, "batch_norm", {"true", "false"});
  if (options.skip.kind != DecisionKind::kCategorical) {
    throw Error(
        "macro space: 'skip' expected a list of 'none' and positive integers, found a "
        "range");
  }
  for (const auto& choice : options.skip.choices) {
    int64_t steps = 0;
    const auto [end, error] = std::from_chars(choice.data(), choice.data() + choice.size(), steps);
    const bool is_steps = error == std::errc() && end == choice.data() + choice.size() && steps > 0;
    if (choice != "none" && !is_steps) {
      throw Error(
          fmt::format("macro space: 'skip' expected 'none' or a positive integer, found "
                      "'{}'",
                      choice));
    }
  }
  require_integers_at_least(options.dense_layers, "dense_layers", 0);
  require_integers_at_least(options.dense_width, "dense_width", 1);
  if (options.dropout.kind == DecisionKind::kFloat) {
    if (options.dropout.float_min < 0 || options.dropout.float_max >= 1) {
      throw Error(
          fmt::format("macro space: 'dropout' expected a range within [0, 1), found "
                      "[{}, {}]",
                      options.dropout.float_min, options.dropout.float_max));
    }
  } else if (options.dropout.kind == DecisionKind::kCategorical) {
    for (const auto& choice : options.dropout.choices) {
      double value = -1;
      try {
        value = std::stod(choice);
      } catch (const std::exception&) {
      }
      if (!(value >= 0 && value < 1)) {
        throw Error(
            fmt::format("macro space: 'dropout' expected numbers in [0, 1), found '{}'", choice));
      }
    }
  }

  const auto stage_counts = integer_values(options.stages, "stages");
  const auto depths = integer_values(options.depth, "depth");
  const auto dense_counts = integer_values(options.dense_layers, "dense_layers");
  const int64_t min_stages = *std::min_element(stage_counts.begin(), stage_counts.end());
  const int64_t max_stages = *std::max_element(stage_counts.begin(), stage_counts.end());
  const int64_t min_depth = *std::min_element(depths.begin(), depths.end());
  const int64_t max_depth = *std::max_element(depths.begin(), depths.end());
  const int64_t min_dense = *std::min_element(dense_counts.begin(), dense_counts.end());
  const int64_t max_dense = *std::max_element(dense_counts.begin(), dense_counts.end());

  const auto& chosen_ops = options.op.choices;
  const auto ops_with_width = operations_with(chosen_ops, {"conv", "sep_conv", "mbconv"});
  const auto ops_with_kernel =
      operations_with(chosen_ops, {"conv", "sep_conv", "mbconv", "max_pool", "avg_pool"});
  const auto ops_with_expansion = operations_with(chosen_ops, {"mbconv"});

  // Expand: the stem, then each stage's depth and downsampling, then each layer.
  SearchSpace space("macro");
  space.add(named(options.stem_width, "stem.width"));
  space.add(named(options.stages, "stages"));
  for (int64_t stage = 1; stage <= max_stages; ++stage) {
    const std::string prefix = fmt::format("s{}", stage);
    const auto stage_exists = [&](Decision decision) {
      if (stage > min_stages) decision.when(Condition::at_least_value("stages", stage));
      return decision;
    };
    space.add(stage_exists(named(options.depth, prefix + ".depth")));
    space.add(stage_exists(named(options.downsample, prefix + ".downsample")));

    for (int64_t layer = 1; layer <= max_depth; ++layer) {
      const std::string layer_prefix = fmt::format("{}.l{}", prefix, layer);
      const auto layer_exists = [&](Decision decision) {
        decision = stage_exists(std::move(decision));
        if (layer > min_depth) decision.when(Condition::at_least_value(prefix + ".depth", layer));
        return decision;
      };
      const auto for_ops = [&](Decision decision, const std::vector<std::string>& ops) {
        decision = layer_exists(std::move(decision));
        if (ops.size() < chosen_ops.size()) {
          decision.when(Condition::one_of_values(layer_prefix + ".op", ops));
        }
        return decision;
      };

      space.add(layer_exists(named(options.op, layer_prefix + ".op")));
      if (!ops_with_width.empty()) {
        space.add(for_ops(named(options.width, layer_prefix + ".width"), ops_with_width));
      }
      if (!ops_with_kernel.empty()) {
        space.add(for_ops(named(options.kernel, layer_prefix + ".kernel"), ops_with_kernel));
      }
      if (!ops_with_expansion.empty()) {
        space.add(
            for_ops(named(options.expansion, layer_prefix + ".expansion"), ops_with_expansion));
      }
      if (!ops_with_width.empty()) {
        space.add(for_ops(named(options.activation, layer_prefix + ".activation"), ops_with_width));
        space.add(for_ops(named(options.batch_norm, layer_prefix + ".batch_norm"), ops_with_width));
      }
      // The first layer of a stage that downsamples changes the shape, so a skip into it
      // could never be valid: it exists only when the stage keeps its input size.
      const auto& modes = options.downsample.choices;
      const bool can_keep_size = std::find(modes.begin(), modes.end(), "none") != modes.end();
      if (layer > 1 || modes == std::vector<std::string>{"none"}) {
        space.add(layer_exists(named(options.skip, layer_prefix + ".skip")));
      } else if (can_keep_size) {
        space.add(layer_exists(named(options.skip, layer_prefix + ".skip"))
                      .when(Condition::one_of_values(prefix + ".downsample", {"none"})));
      }
    }
  }

  space.add(named(options.dense_layers, "head.dense_layers"));
  for (int64_t dense = 1; dense <= max_dense; ++dense) {
    Decision width = named(options.dense_width, fmt::format("head.dense{}.width", dense));
    if (dense > min_dense) width.when(Condition::at_least_value("head.dense_layers", dense));
    space.add(std::move(width));
  }
  space.add(named(options.dropout, "head.dropout"));
  return space;
}

}  // namespace nascent
