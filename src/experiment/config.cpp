#include "nascent/experiment/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "nascent/core/error.h"
#include "nascent/core/random.h"
#include "nascent/core/text.h"
#include "nascent/eval/proxy_names.h"
#include "nascent/space/nasbench201.h"

namespace nascent {

namespace {

/// The most LibTorch threads a config may ask for, as the command line's --threads options.
constexpr int64_t kMaxThreads = 256;

/// What kind of values a macro-space aspect takes.
enum class AspectKind { kInteger, kNumber, kName, kBoolean, kSkip };

struct AspectSpec {
  const char* key;
  AspectKind kind;
  Decision MacroSpaceOptions::*member;
};

const std::vector<AspectSpec>& aspect_specs() {
  static const std::vector<AspectSpec> specs = {
      {"stem_width", AspectKind::kInteger, &MacroSpaceOptions::stem_width},
      {"stages", AspectKind::kInteger, &MacroSpaceOptions::stages},
      {"depth", AspectKind::kInteger, &MacroSpaceOptions::depth},
      {"downsample", AspectKind::kName, &MacroSpaceOptions::downsample},
      {"op", AspectKind::kName, &MacroSpaceOptions::op},
      {"width", AspectKind::kInteger, &MacroSpaceOptions::width},
      {"kernel", AspectKind::kInteger, &MacroSpaceOptions::kernel},
      {"expansion", AspectKind::kInteger, &MacroSpaceOptions::expansion},
      {"activation", AspectKind::kName, &MacroSpaceOptions::activation},
      {"batch_norm", AspectKind::kBoolean, &MacroSpaceOptions::batch_norm},
      {"skip", AspectKind::kSkip, &MacroSpaceOptions::skip},
      {"dense_layers", AspectKind::kInteger, &MacroSpaceOptions::dense_layers},
      {"dense_width", AspectKind::kInteger, &MacroSpaceOptions::dense_width},
      {"dropout", AspectKind::kNumber, &MacroSpaceOptions::dropout},
  };
  return specs;
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an undefined value";
  }
}

/// Reads typed values from YAML nodes and turns every problem into a ConfigError.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key_path,
                         const std::string& problem) const {
    const int64_t line = node.IsDefined() ? node.Mark().line + 1 : 0;
    throw ConfigError(path_, line, key_path, problem);
  }

  /// Refuses keys outside `allowed`, suggesting the closest one.
  void check_keys(const YAML::Node& map, const std::string& key_path,
                  const std::vector<std::string>& allowed) const {
    if (!map.IsMap()) {
      fail(map, key_path, fmt::format("expected a mapping, found {}", describe_node(map)));
    }
    std::map<std::string, int64_t> first_lines;
    for (const auto& entry : map) {
      const std::string key = entry.first.as<std::string>();
      const auto [previous, inserted] = first_lines.emplace(key, entry.first.Mark().line + 1);
      if (!inserted) {
        fail(entry.first, key_path.empty() ? key : key_path + "." + key,
             fmt::format("expected each key once, found it again (first at line {})",
                         previous->second));
      }
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const auto hint = closest_match(key, allowed);
      const std::string full = key_path.empty() ? key : key_path + "." + key;
      fail(entry.first, full,
           fmt::format("unknown key; expected one of {}{}", join_choices(allowed),
                       hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
    }
  }

  int64_t integer(const YAML::Node& node, const std::string& key_path) const {
    if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      int64_t value = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc() && end == text.data() + text.size()) return value;
    }
    fail(node, key_path, fmt::format("expected an integer, found {}", describe_node(node)));
  }

  double number(const YAML::Node& node, const std::string& key_path) const {
    if (node.IsScalar()) {
      try {
        size_t consumed = 0;
        const double value = std::stod(node.Scalar(), &consumed);
        if (consumed == node.Scalar().size() && std::isfinite(value)) return value;
      } catch (const std::exception&) {
      }
    }
    fail(node, key_path, fmt::format("expected a number, found {}", describe_node(node)));
  }

  bool boolean(const YAML::Node& node, const std::string& key_path) const {
    // A quoted scalar ("true") or one tagged !!str is a string to YAML, whatever it spells;
    // yaml-cpp gives the first the non-specific tag "!", where a plain scalar has "?".
    if (node.IsScalar() && (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str")) {
      fail(node, key_path,
           fmt::format("expected a boolean (true or false), found the string \"{}\"",
                       node.Scalar()));
    }
    // The spellings of YAML 1.2's core schema. (yes/no/on/off were booleans in YAML 1.1 only,
    // and read as strings by 1.2 parsers, so they are refused rather than guessed.)
    if (node.IsScalar()) {
      const std::string& value = node.Scalar();
      if (value == "true" || value == "True" || value == "TRUE") return true;
      if (value == "false" || value == "False" || value == "FALSE") return false;
    }
    fail(node, key_path,
         fmt::format("expected a boolean (true or false), found {}", describe_node(node)));
  }

  /// A non-empty string in UTF-8: names and paths end up in summary.json, and JSON is UTF-8.
  std::string text(const YAML::Node& node, const std::string& key_path) const {
    if (!node.IsScalar() || node.Scalar().empty()) {
      fail(node, key_path,
           fmt::format("expected a non-empty string, found {}", describe_node(node)));
    }
    const std::string& value = node.Scalar();
    if (const auto invalid = first_invalid_utf8(value)) {
      fail(node, key_path,
           fmt::format("expected UTF-8 text, found '{}', whose byte {} (0x{:02X}) is not UTF-8",
                       escape_invalid_utf8(value), *invalid + 1,
                       static_cast<unsigned char>(value[*invalid])));
    }
    return value;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// The line of `key` itself in a mapping (yaml-cpp places a block mapping's value at its first
/// key, which is one line below); 0 when absent.
int64_t key_line(const YAML::Node& map, const std::string& key) {
  for (const auto& entry : map) {
    if (entry.first.as<std::string>() == key) return entry.first.Mark().line + 1;
  }
  return 0;
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

/// Canonical text of one choice of an aspect.
std::string parse_choice(const Reader& reader, const YAML::Node& node, const std::string& key_path,
                         AspectKind kind) {
  switch (kind) {
    case AspectKind::kInteger:
      return std::to_string(reader.integer(node, key_path));
    case AspectKind::kNumber:
      return format_double(reader.number(node, key_path));
    case AspectKind::kBoolean:
      return reader.boolean(node, key_path) ? "true" : "false";
    case AspectKind::kSkip:
      if (node.IsScalar() && node.Scalar() == "none") return "none";
      return std::to_string(reader.integer(node, key_path));
    case AspectKind::kName:
      return reader.text(node, key_path);
  }
  return {};
}

/// An aspect's domain: a list (categorical), a single value, or {min, max[, log]}.
Decision parse_domain(const Reader& reader, const YAML::Node& node, const std::string& key_path,
                      AspectKind kind) {
  if (node.IsSequence()) {
    if (node.size() == 0) reader.fail(node, key_path, "expected at least one choice, found none");
    std::vector<std::string> choices;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string choice =
          parse_choice(reader, node[i], fmt::format("{}[{}]", key_path, i), kind);
      if (std::find(choices.begin(), choices.end(), choice) != choices.end()) {
        reader.fail(node[i], fmt::format("{}[{}]", key_path, i),
                    fmt::format("expected distinct choices, found '{}' twice", choice));
      }
      choices.push_back(choice);
    }
    return Decision::categorical("", choices);
  }

  if (node.IsMap()) {
    if (kind != AspectKind::kInteger && kind != AspectKind::kNumber) {
      reader.fail(node, key_path, "expected a list of choices, found a mapping");
    }
    reader.check_keys(node, key_path, {"min", "max", "log"});
    if (!node["min"] || !node["max"]) {
      reader.fail(node, key_path, "expected both 'min' and 'max' in a range");
    }
    const bool log_scale = node["log"] ? reader.boolean(node["log"], key_path + ".log") : false;
    if (kind == AspectKind::kInteger) {
      if (log_scale)
        reader.fail(node["log"], key_path + ".log",
                    "expected no log scale for an "
                    "integer range, found true");
      const int64_t min = reader.integer(node["min"], key_path + ".min");
      const int64_t max = reader.integer(node["max"], key_path + ".max");
      if (min > max) {
        reader.fail(node, key_path, fmt::format("expected min <= max, found [{}, {}]", min, max));
      }
      return Decision::integer("", min, max);
    }
    const double min = reader.number(node["min"], key_path + ".min");
    const double max = reader.number(node["max"], key_path + ".max");
    if (min > max) {
      reader.fail(node, key_path, fmt::format("expected min <= max, found [{}, {}]", min, max));
    }
    if (log_scale && min <= 0) {
      reader.fail(node["min"], key_path + ".min",
                  fmt::format("expected min > 0 on a log scale, found {}", min));
    }
    return Decision::real("", min, max, log_scale);
  }

  if (node.IsScalar())
    return Decision::categorical("", {parse_choice(reader, node, key_path, kind)});
  reader.fail(
      node, key_path,
      fmt::format("expected a list, a value or {{min, max}}, found {}", describe_node(node)));
}

void parse_cost_limits(const Reader& reader, const YAML::Node& node, ExperimentConfig& config) {
  for (const char* key : {"max_params", "max_flops"}) {
    if (!node[key]) continue;
    const int64_t limit = reader.integer(node[key], std::string("space.") + key);
    if (limit < 0) {
      reader.fail(node[key], std::string("space.") + key,
                  fmt::format("expected an integer >= 0 (0 = no limit), found {}", limit));
    }
    (std::string(key) == "max_params" ? config.cost_limits.max_params
                                      : config.cost_limits.max_flops) = limit;
  }
}

/// `space: {family: nasbench201, cells_per_stage: 5, channels: 16, operations: [...]}`.
void parse_nasbench201_space(const Reader& reader, const YAML::Node& node,
                             ExperimentConfig& config) {
  reader.check_keys(
      node, "space",
      {"family", "cells_per_stage", "channels", "operations", "max_params", "max_flops"});
  config.network.family = "nasbench201";
  for (const char* key : {"cells_per_stage", "channels"}) {
    if (!node[key]) continue;
    const int64_t value = reader.integer(node[key], std::string("space.") + key);
    if (value < 1) {
      reader.fail(node[key], std::string("space.") + key,
                  fmt::format("expected an integer >= 1, found {}", value));
    }
    (std::string(key) == "channels" ? config.network.cell.channels
                                    : config.network.cell.cells_per_stage) = value;
  }
  parse_cost_limits(reader, node, config);

  Nasbench201SpaceOptions options;
  if (node["operations"]) {
    const Decision domain =
        parse_domain(reader, node["operations"], "space.operations", AspectKind::kName);
    options.operations = domain.choices;
  }
  try {
    config.space = make_nasbench201_space(options);
  } catch (const Error& error) {
    reader.fail(node["operations"] ? node["operations"] : node, "space.operations", error.what());
  }
}

void parse_space(const Reader& reader, const YAML::Node& node, ExperimentConfig& config) {
  if (node.IsMap() && node["family"] && node["family"].IsScalar() &&
      node["family"].Scalar() == "nasbench201") {
    parse_nasbench201_space(reader, node, config);
    return;
  }
  std::vector<std::string> allowed = {"family", "max_params", "max_flops"};
  for (const auto& spec : aspect_specs()) allowed.push_back(spec.key);
  reader.check_keys(node, "space", allowed);

  if (node["family"]) {
    const std::string family = reader.text(node["family"], "space.family");
    if (family != "macro") {
      const auto hint = closest_match(family, {"macro", "nasbench201"});
      reader.fail(node["family"], "space.family",
                  fmt::format("expected macro or nasbench201, found '{}'{}", family,
                              hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
    }
  }

  parse_cost_limits(reader, node, config);

  std::map<std::string, YAML::Node> aspect_nodes;
  for (const auto& spec : aspect_specs()) {
    const YAML::Node aspect = node[spec.key];
    if (!aspect) continue;
    config.space_options.*spec.member =
        parse_domain(reader, aspect, std::string("space.") + spec.key, spec.kind);
    aspect_nodes[spec.key] = aspect;
  }

  try {
    config.space = make_macro_space(config.space_options);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& error) {
    // The message names the aspect in quotes: point at that key's line when it was given.
    const std::string message = error.what();
    const size_t open = message.find('\'');
    const size_t close = message.find('\'', open + 1);
    const std::string aspect = open != std::string::npos && close != std::string::npos
                                   ? message.substr(open + 1, close - open - 1)
                                   : "";
    if (aspect_nodes.count(aspect)) {
      reader.fail(aspect_nodes[aspect], "space." + aspect, message.substr(close + 2));
    }
    reader.fail(node, "space", message.substr(message.find(": ") + 2));
  }
}

void parse_train(const Reader& reader, const YAML::Node& node, const std::string& key_path,
                 TrainOptions& options) {
  reader.check_keys(node, key_path,
                    {"epochs", "batch_size", "optimizer", "learning_rate", "momentum", "nesterov",
                     "weight_decay", "warmup_epochs", "label_smoothing", "crop_padding",
                     "horizontal_flip", "eval_batch_size", "channels_last", "precise_batch_norm"});
  const auto path = [&](const char* key) { return join(key_path, key); };
  if (node["epochs"]) options.epochs = reader.integer(node["epochs"], path("epochs"));
  if (node["batch_size"])
    options.batch_size = reader.integer(node["batch_size"], path("batch_size"));
  if (node["optimizer"]) options.optimizer = reader.text(node["optimizer"], path("optimizer"));
  if (node["learning_rate"]) {
    options.learning_rate = reader.number(node["learning_rate"], path("learning_rate"));
  }
  if (node["momentum"]) options.momentum = reader.number(node["momentum"], path("momentum"));
  if (node["nesterov"]) options.nesterov = reader.boolean(node["nesterov"], path("nesterov"));
  if (node["weight_decay"]) {
    options.weight_decay = reader.number(node["weight_decay"], path("weight_decay"));
  }
  if (node["warmup_epochs"]) {
    options.warmup_epochs = reader.number(node["warmup_epochs"], path("warmup_epochs"));
  }
  if (node["label_smoothing"]) {
    options.label_smoothing = reader.number(node["label_smoothing"], path("label_smoothing"));
  }
  if (node["crop_padding"]) {
    options.crop_padding = reader.integer(node["crop_padding"], path("crop_padding"));
  }
  if (node["horizontal_flip"]) {
    options.horizontal_flip = reader.boolean(node["horizontal_flip"], path("horizontal_flip"));
  }
  if (node["eval_batch_size"]) {
    options.eval_batch_size = reader.integer(node["eval_batch_size"], path("eval_batch_size"));
  }
  if (node["channels_last"]) {
    options.channels_last = reader.boolean(node["channels_last"], path("channels_last"));
  }
  if (node["precise_batch_norm"]) {
    options.precise_batch_norm =
        reader.boolean(node["precise_batch_norm"], path("precise_batch_norm"));
  }

  try {
    options.validate();
  } catch (const Error& error) {
    // validate() names the field as "train.<field>: ..."; point at its line.
    const std::string message = error.what();
    const std::string field = message.substr(6, message.find(':') - 6);
    const std::string problem = message.substr(message.find(": ") + 2);
    reader.fail(node[field] ? node[field] : node, join(key_path, field), problem);
  }
}

void parse_data(const Reader& reader, const YAML::Node& node, DataConfig& data) {
  reader.check_keys(node, "data", {"dataset", "directory", "validation_size", "search_train_size"});
  if (node["dataset"]) {
    data.dataset = reader.text(node["dataset"], "data.dataset");
    const std::vector<std::string> known = {"fashion-mnist", "mnist", "idx"};
    if (std::find(known.begin(), known.end(), data.dataset) == known.end()) {
      const auto hint = closest_match(data.dataset, known);
      reader.fail(node["dataset"], "data.dataset",
                  fmt::format("expected {}, found '{}'{}", join_choices(known), data.dataset,
                              hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
    }
    if (data.dataset == "mnist") {
      data.directory = "/usr/share/datasets/mnist";
      data.debian_package = "dataset-mnist";
    } else if (data.dataset == "idx") {
      data.directory.clear();
      data.debian_package.clear();
    }
  }
  if (node["directory"]) data.directory = reader.text(node["directory"], "data.directory");
  if (data.directory.empty()) {
    reader.fail(node, "data.directory",
                "expected a directory of IDX files for dataset 'idx', "
                "found none");
  }
  if (node["validation_size"]) {
    data.validation_size = reader.integer(node["validation_size"], "data.validation_size");
    if (data.validation_size < 1) {
      reader.fail(node["validation_size"], "data.validation_size",
                  fmt::format("expected an integer >= 1, found {}", data.validation_size));
    }
  }
  if (node["search_train_size"]) {
    data.search_train_size = reader.integer(node["search_train_size"], "data.search_train_size");
    if (data.search_train_size < 0) {
      reader.fail(node["search_train_size"], "data.search_train_size",
                  fmt::format("expected an integer >= 0, found {}", data.search_train_size));
    }
  }
}

/// The strategies a key of the strategy section applies to; empty for keys of every strategy.
const std::vector<std::string>& strategies_using(const std::string& key) {
  static const std::map<std::string, std::vector<std::string>> users = {
      {"population", {"evolution", "nsga2"}},
      {"sample", {"evolution"}},
      {"first_improvement", {"local"}},
      {"learning_rate", {"reinforce"}},
      {"baseline_decay", {"reinforce"}},
      {"entropy_weight", {"reinforce"}},
      {"controller", {"reinforce"}},
      {"hidden_size", {"reinforce"}},
      {"controller_learning_rate", {"reinforce"}},
      {"initial_random", {"local", "bo"}},
      {"candidates", {"bo"}},
      {"parents", {"bo"}},
      {"surrogate", {"bo"}},
      {"acquisition", {"bo"}},
      {"ucb_beta", {"bo"}},
      {"batch", {"bo"}},
      {"encoding", {"bo"}},
      {"kernel", {"bo"}},
      {"min_epochs", {"sh", "hyperband", "bohb"}},
      {"eta", {"sh", "hyperband", "bohb"}},
      {"bracket_size", {"sh", "hyperband", "bohb"}},
      {"random_fraction", {"bohb"}},
      {"top_fraction", {"bohb"}},
      {"kde_samples", {"bohb"}},
      {"supernet_epochs", {"darts"}},
      {"architecture_learning_rate", {"darts"}},
      {"architecture_weight_decay", {"darts"}},
  };
  static const std::vector<std::string> everyone;
  const auto found = users.find(key);
  return found == users.end() ? everyone : found->second;
}

void parse_strategy(const Reader& reader, const YAML::Node& node, StrategyOptions& strategy) {
  if (node.IsScalar()) {
    strategy.name = reader.text(node, "strategy");
  } else {
    reader.check_keys(node, "strategy",
                      {"name",
                       "population",
                       "sample",
                       "first_improvement",
                       "learning_rate",
                       "baseline_decay",
                       "entropy_weight",
                       "initial_random",
                       "candidates",
                       "parents",
                       "surrogate",
                       "acquisition",
                       "ucb_beta",
                       "batch",
                       "min_epochs",
                       "eta",
                       "bracket_size",
                       "random_fraction",
                       "top_fraction",
                       "kde_samples",
                       "controller",
                       "hidden_size",
                       "controller_learning_rate",
                       "encoding",
                       "kernel",
                       "supernet_epochs",
                       "architecture_learning_rate",
                       "architecture_weight_decay"});
    if (node["name"]) strategy.name = reader.text(node["name"], "strategy.name");
    if (node["population"]) {
      strategy.population_size = reader.integer(node["population"], "strategy.population");
    }
    if (node["sample"]) strategy.sample_size = reader.integer(node["sample"], "strategy.sample");
    if (node["first_improvement"]) {
      strategy.first_improvement =
          reader.boolean(node["first_improvement"], "strategy.first_improvement");
    }
    if (node["learning_rate"]) {
      strategy.learning_rate = reader.number(node["learning_rate"], "strategy.learning_rate");
    }
    if (node["baseline_decay"]) {
      strategy.baseline_decay = reader.number(node["baseline_decay"], "strategy.baseline_decay");
    }
    if (node["entropy_weight"]) {
      strategy.entropy_weight = reader.number(node["entropy_weight"], "strategy.entropy_weight");
    }
    if (node["initial_random"]) {
      strategy.initial_random = reader.integer(node["initial_random"], "strategy.initial_random");
    }
    if (node["candidates"]) {
      strategy.candidates = reader.integer(node["candidates"], "strategy.candidates");
    }
    if (node["parents"]) strategy.parents = reader.integer(node["parents"], "strategy.parents");
    if (node["acquisition"]) {
      strategy.acquisition = reader.text(node["acquisition"], "strategy.acquisition");
    }
    if (node["ucb_beta"]) strategy.ucb_beta = reader.number(node["ucb_beta"], "strategy.ucb_beta");
    if (node["surrogate"]) {
      strategy.surrogate = reader.text(node["surrogate"], "strategy.surrogate");
    }
    if (node["batch"]) strategy.batch = reader.integer(node["batch"], "strategy.batch");
    if (node["min_epochs"]) {
      strategy.min_epochs = reader.integer(node["min_epochs"], "strategy.min_epochs");
    }
    if (node["eta"]) strategy.eta = reader.number(node["eta"], "strategy.eta");
    if (node["bracket_size"]) {
      strategy.bracket_size = reader.integer(node["bracket_size"], "strategy.bracket_size");
    }
    if (node["random_fraction"]) {
      strategy.random_fraction = reader.number(node["random_fraction"], "strategy.random_fraction");
    }
    if (node["top_fraction"]) {
      strategy.top_fraction = reader.number(node["top_fraction"], "strategy.top_fraction");
    }
    if (node["kde_samples"]) {
      strategy.kde_samples = reader.integer(node["kde_samples"], "strategy.kde_samples");
    }
    if (node["supernet_epochs"]) {
      strategy.supernet_epochs =
          reader.integer(node["supernet_epochs"], "strategy.supernet_epochs");
    }
    if (node["architecture_learning_rate"]) {
      strategy.architecture_learning_rate =
          reader.number(node["architecture_learning_rate"], "strategy.architecture_learning_rate");
    }
    if (node["architecture_weight_decay"]) {
      strategy.architecture_weight_decay =
          reader.number(node["architecture_weight_decay"], "strategy.architecture_weight_decay");
    }
    if (node["controller"]) {
      strategy.controller = reader.text(node["controller"], "strategy.controller");
    }
    if (node["hidden_size"]) {
      strategy.hidden_size = reader.integer(node["hidden_size"], "strategy.hidden_size");
    }
    if (node["encoding"]) strategy.encoding = reader.text(node["encoding"], "strategy.encoding");
    if (node["kernel"]) strategy.kernel = reader.text(node["kernel"], "strategy.kernel");
    if (node["controller_learning_rate"]) {
      strategy.controller_learning_rate =
          reader.number(node["controller_learning_rate"], "strategy.controller_learning_rate");
    }

    // An option of another strategy would be ignored without a word, and its author would
    // think it in force.
    for (const auto& entry : node) {
      const std::string key = entry.first.as<std::string>();
      const std::vector<std::string>& users = strategies_using(key);
      if (users.empty() || std::find(users.begin(), users.end(), strategy.name) != users.end()) {
        continue;
      }
      if (std::find(strategy_names().begin(), strategy_names().end(), strategy.name) ==
          strategy_names().end()) {
        break;  // An unknown name gets its own error below.
      }
      reader.fail(entry.first, "strategy." + key,
                  fmt::format("expected an option that {} uses, found one for {} only",
                              strategy.name, join_choices(users)));
    }
    // REINFORCE's LSTM controller has options of its own, which the factorised one would
    // ignore as silently.
    if (strategy.name == "reinforce" && strategy.controller == "factorised") {
      for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        if (key != "hidden_size" && key != "controller_learning_rate") continue;
        reader.fail(entry.first, "strategy." + key,
                    "expected an option that reinforce with controller factorised uses, found "
                    "one for controller lstm only");
      }
    }
  }

  try {
    strategy.validate();
  } catch (const Error& error) {
    const std::string message = error.what();
    const std::string key = message.substr(0, message.find(':'));
    const std::string field = key.substr(key.find('.') + 1);
    const std::string problem = message.substr(message.find(": ") + 2);
    const YAML::Node field_node = node.IsMap() && node[field] ? node[field] : node;
    reader.fail(field_node, key, problem);
  }
}

void parse_budget(const Reader& reader, const YAML::Node& node, BudgetConfig& budget) {
  reader.check_keys(node, "budget", {"max_trials", "time_limit_min"});
  if (node["max_trials"]) {
    budget.max_trials = reader.integer(node["max_trials"], "budget.max_trials");
    if (budget.max_trials < 0) {
      reader.fail(node["max_trials"], "budget.max_trials",
                  fmt::format("expected an integer >= 0, found {}", budget.max_trials));
    }
  }
  if (node["time_limit_min"]) {
    budget.time_limit_min = reader.number(node["time_limit_min"], "budget.time_limit_min");
    if (budget.time_limit_min < 0) {
      reader.fail(node["time_limit_min"], "budget.time_limit_min",
                  fmt::format("expected a number >= 0, found {}", budget.time_limit_min));
    }
  }
}

/// An integer of `section.key` that must be at least `minimum`.
int64_t integer_at_least(const Reader& reader, const YAML::Node& node, const std::string& key_path,
                         int64_t minimum) {
  const int64_t value = reader.integer(node, key_path);
  if (value < minimum) {
    reader.fail(node, key_path, fmt::format("expected an integer >= {}, found {}", minimum, value));
  }
  return value;
}

/// A number of `key_path` in (0, 1].
double fraction(const Reader& reader, const YAML::Node& node, const std::string& key_path) {
  const double value = reader.number(node, key_path);
  if (!(value > 0.0 && value <= 1.0)) {
    reader.fail(node, key_path, fmt::format("expected a number in (0, 1], found {}", value));
  }
  return value;
}

/// A name of `key_path` out of `choices`, with a suggestion when it is close to one.
std::string choice(const Reader& reader, const YAML::Node& node, const std::string& key_path,
                   const std::vector<std::string>& choices) {
  const std::string value = reader.text(node, key_path);
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return value;
  const auto hint = closest_match(value, choices);
  reader.fail(node, key_path,
              fmt::format("expected {}, found '{}'{}", join_choices(choices), value,
                          hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
}

void parse_proxy(const Reader& reader, const YAML::Node& node, ProxyConfig& proxy) {
  reader.check_keys(node, "proxy", {"use", "name", "batch_size", "candidates", "keep"});
  if (node["use"]) {
    proxy.use =
        choice(reader, node["use"], "proxy.use", {"none", "evaluator", "prefilter", "warm_start"});
  }
  if (node["name"]) proxy.name = choice(reader, node["name"], "proxy.name", proxy_names());
  if (node["batch_size"]) {
    proxy.batch_size = integer_at_least(reader, node["batch_size"], "proxy.batch_size", 2);
  }
  if (node["candidates"]) {
    proxy.candidates = integer_at_least(reader, node["candidates"], "proxy.candidates", 1);
  }
  if (node["keep"]) proxy.keep = integer_at_least(reader, node["keep"], "proxy.keep", 1);
  if (proxy.keep > proxy.candidates) {
    reader.fail(node["keep"] ? node["keep"] : node, "proxy.keep",
                fmt::format("expected at most proxy.candidates ({}), found {}", proxy.candidates,
                            proxy.keep));
  }
}

void parse_pruning(const Reader& reader, const YAML::Node& node, PruningOptions& pruning) {
  reader.check_keys(node, "pruning",
                    {"rule", "min_trials", "warmup_epochs", "min_epochs", "reduction_factor"});
  if (node["rule"]) {
    pruning.rule = choice(reader, node["rule"], "pruning.rule", {"none", "median", "asha"});
  }
  if (node["min_trials"]) {
    pruning.min_trials = integer_at_least(reader, node["min_trials"], "pruning.min_trials", 1);
  }
  if (node["warmup_epochs"]) {
    pruning.warmup_epochs =
        integer_at_least(reader, node["warmup_epochs"], "pruning.warmup_epochs", 0);
  }
  if (node["min_epochs"]) {
    pruning.min_epochs = integer_at_least(reader, node["min_epochs"], "pruning.min_epochs", 1);
  }
  if (node["reduction_factor"]) {
    pruning.reduction_factor =
        integer_at_least(reader, node["reduction_factor"], "pruning.reduction_factor", 2);
  }
  pruning.validate();
}

void parse_fidelity(const Reader& reader, const YAML::Node& node, FidelityConfig& fidelity) {
  reader.check_keys(node, "fidelity", {"data_fraction", "width_multiplier", "resolution"});
  if (node["data_fraction"]) {
    fidelity.data_fraction = fraction(reader, node["data_fraction"], "fidelity.data_fraction");
    fidelity.data_fraction_line = key_line(node, "data_fraction");
  }
  if (node["width_multiplier"]) {
    fidelity.width_multiplier =
        fraction(reader, node["width_multiplier"], "fidelity.width_multiplier");
  }
  if (node["resolution"]) {
    fidelity.resolution = integer_at_least(reader, node["resolution"], "fidelity.resolution", 0);
  }
}

/// `objectives: {optimize: [...], constraints: {metric: bound}, latency_batch_size: ...}`.
void parse_objectives(const Reader& reader, const YAML::Node& node, ObjectivesConfig& objectives) {
  reader.check_keys(
      node, "objectives",
      {"optimize", "constraints", "latency_batch_size", "latency_warmup", "latency_repeats"});
  const auto check_metric = [&](const YAML::Node& at, const std::string& key_path,
                                const std::string& metric) {
    const auto& names = metric_names();
    if (std::find(names.begin(), names.end(), metric) != names.end()) return;
    const auto hint = closest_match(metric, names);
    reader.fail(at, key_path,
                fmt::format("expected {}, found '{}'{}", join_choices(names), metric,
                            hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
  };

  if (const YAML::Node optimize = node["optimize"]) {
    if (!optimize.IsSequence() || optimize.size() == 0) {
      reader.fail(optimize, "objectives.optimize",
                  fmt::format("expected a list of at least one metric, found {}",
                              optimize.IsSequence() ? "an empty list" : describe_node(optimize)));
    }
    objectives.optimize.clear();
    for (size_t i = 0; i < optimize.size(); ++i) {
      const std::string key_path = fmt::format("objectives.optimize[{}]", i);
      const std::string metric = reader.text(optimize[i], key_path);
      check_metric(optimize[i], key_path, metric);
      if (std::find(objectives.optimize.begin(), objectives.optimize.end(), metric) !=
          objectives.optimize.end()) {
        reader.fail(optimize[i], key_path,
                    fmt::format("expected each metric once, found '{}' twice", metric));
      }
      objectives.optimize.push_back(metric);
    }
  }

  if (const YAML::Node constraints = node["constraints"]) {
    reader.check_keys(constraints, "objectives.constraints", metric_names());
    for (const auto& entry : constraints) {
      const std::string metric = entry.first.as<std::string>();
      const std::string key_path = "objectives.constraints." + metric;
      const double bound = reader.number(entry.second, key_path);
      const bool fraction = metric_is_maximised(metric);
      if (fraction ? !(bound >= 0 && bound <= 1) : !(bound > 0)) {
        reader.fail(entry.second, key_path,
                    fmt::format("expected {}, found {}",
                                fraction ? "a fraction in [0, 1] (a lower bound)"
                                         : "a number > 0 (an upper bound)",
                                bound));
      }
      objectives.constraints.emplace_back(metric, bound);
    }
  }

  const std::vector<std::pair<const char*, int64_t ObjectivesConfig::*>> counts = {
      {"latency_batch_size", &ObjectivesConfig::latency_batch_size},
      {"latency_warmup", &ObjectivesConfig::latency_warmup},
      {"latency_repeats", &ObjectivesConfig::latency_repeats}};
  for (const auto& [key, member] : counts) {
    if (!node[key]) continue;
    const std::string key_path = std::string("objectives.") + key;
    const int64_t value = reader.integer(node[key], key_path);
    const int64_t minimum = std::string(key) == "latency_warmup" ? 0 : 1;
    if (value < minimum) {
      reader.fail(node[key], key_path,
                  fmt::format("expected an integer >= {}, found {}", minimum, value));
    }
    objectives.*member = value;
  }
}

}  // namespace

StrategyOptions parse_strategy_spec(const std::string& spec) {
  const Reader reader(fmt::format("strategy '{}'", spec));
  YAML::Node node(YAML::NodeType::Map);
  size_t start = 0;
  bool first = true;
  while (start <= spec.size()) {
    const size_t end = std::min(spec.find(':', start), spec.size());
    const std::string part = spec.substr(start, end - start);
    if (first) {
      node["name"] = part;
      first = false;
    } else {
      const size_t equals = part.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw ConfigError(reader.path(), 0, "strategy",
                          fmt::format("expected NAME or NAME:KEY=VALUE:..., found '{}' without "
                                      "KEY=VALUE",
                                      part));
      }
      node[part.substr(0, equals)] = part.substr(equals + 1);
    }
    start = end + 1;
  }
  StrategyOptions options;
  parse_strategy(reader, node, options);
  return options;
}

ExperimentConfig parse_experiment_config(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw ConfigError(path, error.mark.line + 1, "", "invalid YAML: " + error.msg);
  }
  const Reader reader(path);
  if (!root.IsMap()) {
    reader.fail(root, "",
                fmt::format("expected a mapping of sections (study, data, space, "
                            "strategy, budget, train, final), found {}",
                            describe_node(root)));
  }
  reader.check_keys(root, "",
                    {"study", "seed", "threads", "data", "space", "strategy", "budget", "train",
                     "final", "proxy", "pruning", "fidelity", "objectives"});

  ExperimentConfig config;
  config.path = path;
  config.text = text;
  if (root["study"]) config.study = reader.text(root["study"], "study");
  if (root["seed"]) {
    const int64_t seed = reader.integer(root["seed"], "seed");
    if (seed < 0) reader.fail(root["seed"], "seed", fmt::format("expected >= 0, found {}", seed));
    config.seed = static_cast<uint64_t>(seed);
  }
  if (root["threads"]) {
    config.threads = reader.integer(root["threads"], "threads");
    // The bound of the command line's --threads: far more threads than cores only slows
    // LibTorch down, and 100000 of them take minutes and hundreds of gigabytes to start.
    if (config.threads < 1 || config.threads > kMaxThreads) {
      reader.fail(
          root["threads"], "threads",
          fmt::format("expected an integer in [1, {}], found {}", kMaxThreads, config.threads));
    }
  }

  if (root["data"]) {
    parse_data(reader, root["data"], config.data);
    const int64_t section_line = key_line(root, "data");
    const auto line_or_section = [&](const char* key) {
      const int64_t line = key_line(root["data"], key);
      return line > 0 ? line : section_line;
    };
    config.data.directory_line = line_or_section("directory");
    config.data.validation_size_line = line_or_section("validation_size");
    config.data.search_train_size_line = line_or_section("search_train_size");
  }
  if (!root["space"]) throw ConfigError(path, 0, "space", "expected a 'space' section, found none");
  config.space_line = key_line(root, "space");
  parse_space(reader, root["space"], config);
  if (root["strategy"]) parse_strategy(reader, root["strategy"], config.strategy);
  if (!root["budget"]) {
    throw ConfigError(path, 0, "budget",
                      "expected a 'budget' section with max_trials and/or time_limit_min, found "
                      "none");
  }
  if (!root["budget"].IsMap()) {
    reader.fail(root["budget"], "budget",
                fmt::format("expected a mapping, found {}", describe_node(root["budget"])));
  }
  parse_budget(reader, root["budget"], config.budget);
  if (config.budget.max_trials == 0 && config.budget.time_limit_min == 0) {
    throw ConfigError(path, key_line(root, "budget"), "budget",
                      "expected max_trials and/or time_limit_min above 0, found no limit");
  }
  if (root["train"]) parse_train(reader, root["train"], "train", config.train);

  // Multi-fidelity strategies train candidates for a ladder of epochs ending at train.epochs.
  if (is_multi_fidelity(config.strategy.name)) {
    // Without an eta the ladder divides by 3, and its rungs are promoted by the same ratio.
    if (config.strategy.eta == 0.0) config.strategy.eta = kDefaultLadderEta;
    try {
      config.strategy.fidelities =
          fidelity_ladder(config.strategy.min_epochs, config.train.epochs, config.strategy.eta);
    } catch (const Error& error) {
      const YAML::Node strategy = root["strategy"];
      const YAML::Node at =
          strategy.IsMap() && strategy["min_epochs"] ? strategy["min_epochs"] : strategy;
      const std::string message = error.what();
      reader.fail(at, "strategy.min_epochs", message.substr(message.find(": ") + 2));
    }
  }

  // The final model starts from the candidate settings with more epochs, unless told.
  config.final.train = config.train;
  config.final.train.epochs = std::max<int64_t>(config.train.epochs, 10);
  if (root["final"]) parse_train(reader, root["final"], "final", config.final.train);

  if (root["proxy"]) parse_proxy(reader, root["proxy"], config.proxy);
  if (root["pruning"]) parse_pruning(reader, root["pruning"], config.pruning);
  if (root["fidelity"]) parse_fidelity(reader, root["fidelity"], config.fidelity);
  if ((config.proxy.use == "prefilter" || config.proxy.use == "warm_start") &&
      is_multi_fidelity(config.strategy.name)) {
    // The proxy wrapper proposes architectures without fidelities.
    reader.fail(root["proxy"], "proxy.use",
                fmt::format("expected none or evaluator with the multi-fidelity strategy {}, "
                            "found '{}'",
                            config.strategy.name, config.proxy.use));
  }
  if (config.proxy.use == "evaluator" && config.pruning.enabled()) {
    reader.fail(root["pruning"], "pruning.rule",
                fmt::format("expected none when proxy.use is evaluator (nothing trains, so "
                            "there is nothing to prune), found '{}'",
                            config.pruning.rule));
  }
  if (root["objectives"]) parse_objectives(reader, root["objectives"], config.objectives);

  // DARTS relaxes the NAS-Bench-201 cell's edges; its supernet trains every candidate at once.
  if (is_weight_sharing(config.strategy.name)) {
    const YAML::Node strategy = root["strategy"];
    const YAML::Node at = strategy.IsMap() && strategy["name"] ? strategy["name"] : strategy;
    if (config.network.family != "nasbench201") {
      reader.fail(at, "strategy.name",
                  fmt::format("expected a strategy for space family '{}', found '{}', which "
                              "needs space: nasbench201",
                              config.network.family, config.strategy.name));
    }
    if (config.proxy.use != "none") {
      reader.fail(root["proxy"], "proxy.use",
                  fmt::format("expected none with strategy {} (the supernet ranks the "
                              "architectures), found '{}'",
                              config.strategy.name, config.proxy.use));
    }
  }
  return config;
}

ExperimentConfig load_experiment_config(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    throw ConfigError(path, 0, "", "expected an experiment file (YAML), found a directory");
  }
  std::ifstream file(path);
  if (!file) {
    throw ConfigError(path, 0, "",
                      "expected a readable experiment file (YAML), found none at "
                      "this path");
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  return parse_experiment_config(buffer.str(), path);
}

}  // namespace nascent

namespace nascent {

std::string describe_train_options(const TrainOptions& o) {
  std::string text = fmt::format(
      "epochs={} batch_size={} optimizer={} learning_rate={} momentum={} nesterov={} "
      "weight_decay={} warmup_epochs={} label_smoothing={} crop_padding={} horizontal_flip={}",
      o.epochs, o.batch_size, o.optimizer, o.learning_rate, o.momentum, o.nesterov, o.weight_decay,
      o.warmup_epochs, o.label_smoothing, o.crop_padding, o.horizontal_flip);
  // Listed only when turned off, so that studies made before the option resume.
  if (!o.precise_batch_norm) text += " precise_batch_norm=false";
  return text;
}

namespace {

/// The first setting in which two lines differ: "in train was 'epochs=2', now 'epochs=3'".
/// Most lines hold their section's name and then space-separated key=value settings, so the
/// setting itself is shown rather than two lines of a hundred characters.
std::string describe_line_difference(const std::string& stored_line, const std::string& new_line) {
  const auto words = [](const std::string& line) {
    std::vector<std::string> result;
    std::istringstream stream(line);
    for (std::string word; stream >> word;) result.push_back(word);
    return result;
  };
  const std::vector<std::string> stored = words(stored_line);
  const std::vector<std::string> now = words(new_line);
  size_t first = 0;
  while (first < stored.size() && first < now.size() && stored[first] == now[first]) ++first;
  // Lines of other shapes (a space's decisions, with conditions) are shown whole.
  const auto is_setting = [&](const std::vector<std::string>& line) {
    return first >= line.size() || line[first].find('=') != std::string::npos;
  };
  if (first == 0 || !is_setting(stored) || !is_setting(now)) {
    return fmt::format("was '{}', now '{}'", stored_line, new_line);
  }
  const auto quoted = [](const std::vector<std::string>& line, size_t index) {
    return index < line.size() ? fmt::format("'{}'", line[index]) : std::string("nothing");
  };
  // The section ("train:") is the line's first word when it ends with a colon.
  std::string section;
  const std::vector<std::string>& named = stored.empty() ? now : stored;
  if (!named.empty() && named.front().ends_with(':')) {
    section = fmt::format("in {} ", named.front().substr(0, named.front().size() - 1));
  }
  return fmt::format("{}was {}, now {}", section, quoted(stored, first), quoted(now, first));
}

}  // namespace

std::string describe_first_difference(const std::string& stored, const std::string& wanted) {
  std::istringstream stored_lines(stored);
  std::istringstream wanted_lines(wanted);
  std::string stored_line;
  std::string wanted_line;
  while (true) {
    const bool more_stored = static_cast<bool>(std::getline(stored_lines, stored_line));
    const bool more_wanted = static_cast<bool>(std::getline(wanted_lines, wanted_line));
    if (!more_stored && !more_wanted) return "none";
    if (!more_stored) stored_line.clear();
    if (!more_wanted) wanted_line.clear();
    if (stored_line != wanted_line) return describe_line_difference(stored_line, wanted_line);
  }
}

void check_space_admits_valid(const ExperimentConfig& config,
                              const std::function<ArchitectureCheck(const Architecture&)>& check,
                              const ImageShape& input) {
  // The stream of the study seed a search has always drawn these samples from.
  constexpr uint64_t kSpaceCheckStream = 3;
  Rng rng(derive_seed(config.seed, kSpaceCheckStream));
  std::map<std::string, int64_t> blame;
  std::map<std::string, std::string> example_reason;
  for (int attempt = 0; attempt < 2000; ++attempt) {
    const ArchitectureCheck result = check(config.space.sample(rng));
    if (result.valid) return;
    ++blame[result.decision];
    example_reason.emplace(result.decision, result.reason);
  }

  const auto worst = std::max_element(
      blame.begin(), blame.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  throw ConfigError(config.path, config.space_line, "space",
                    fmt::format("expected a space with at least one architecture valid for input "
                                "{}, found none in 2000 samples; decision '{}' is the usual "
                                "cause, e.g. {}",
                                input.to_string(), worst->first, example_reason[worst->first]));
}

std::string search_fingerprint(const ExperimentConfig& config) {
  std::string text = fmt::format("seed={}\n", config.seed);
  text += fmt::format("network: family={} cells_per_stage={} channels={}\n", config.network.family,
                      config.network.cell.cells_per_stage, config.network.cell.channels);
  text += fmt::format("limits: max_params={} max_flops={}\n", config.cost_limits.max_params,
                      config.cost_limits.max_flops);
  text += fmt::format("data: dataset={} directory={} validation_size={} search_train_size={}\n",
                      config.data.dataset, config.data.directory, config.data.validation_size,
                      config.data.search_train_size);
  text += fmt::format("strategy: name={} population={} sample={}", config.strategy.name,
                      config.strategy.population_size, config.strategy.sample_size);
  // Options of the later strategies are listed only for them, so that the fingerprints of
  // existing random and evolution studies stay as they were.
  const StrategyOptions& strategy = config.strategy;
  if (strategy.name == "local") {
    text += fmt::format(" first_improvement={}", strategy.first_improvement);
  } else if (strategy.name == "reinforce") {
    text +=
        fmt::format(" learning_rate={} baseline_decay={} entropy_weight={}",
                    format_double(strategy.learning_rate), format_double(strategy.baseline_decay),
                    format_double(strategy.entropy_weight));
    if (strategy.controller != "factorised") {
      text +=
          fmt::format(" controller={} hidden_size={}", strategy.controller, strategy.hidden_size);
    }
  } else if (strategy.name == "bo") {
    text += fmt::format(" initial_random={} candidates={} parents={} acquisition={} ucb_beta={}",
                        strategy.initial_random, strategy.candidates, strategy.parents,
                        strategy.bo_acquisition(), format_double(strategy.ucb_beta));
    if (strategy.bo_encoding() != "decisions") text += " encoding=" + strategy.bo_encoding();
    if (strategy.surrogate == "gp" && strategy.bo_kernel() != "ard") {
      text += " kernel=" + strategy.bo_kernel();
    }
    // Listed only when not the Gaussian process's defaults, so that existing studies resume.
    if (strategy.surrogate != "gp") text += " surrogate=" + strategy.surrogate;
    if (strategy.bo_batch() != 1) text += fmt::format(" batch={}", strategy.bo_batch());
  } else if (is_multi_fidelity(strategy.name)) {
    text +=
        fmt::format(" fidelities={} eta={} bracket_size={}", fmt::join(strategy.fidelities, ","),
                    format_double(strategy.eta), strategy.bracket_size);
    if (strategy.name == "bohb") {
      text += fmt::format(" random_fraction={} top_fraction={} kde_samples={}",
                          format_double(strategy.random_fraction),
                          format_double(strategy.top_fraction), strategy.kde_samples);
    }
  } else if (is_weight_sharing(strategy.name)) {
    text += fmt::format(
        " supernet_epochs={} architecture_learning_rate={} "
        "architecture_weight_decay={}",
        strategy.supernet_epochs, format_double(strategy.architecture_learning_rate),
        format_double(strategy.architecture_weight_decay));
  }
  text += "\n";
  text += "train: " + describe_train_options(config.train) + "\n";
  // Cheap-evaluation settings are listed only when used, so that existing studies resume.
  if (config.proxy.use != "none") {
    text += fmt::format("proxy: use={} name={} batch_size={} candidates={} keep={}\n",
                        config.proxy.use, config.proxy.name, config.proxy.batch_size,
                        config.proxy.candidates, config.proxy.keep);
  }
  if (config.pruning.enabled()) {
    text += fmt::format(
        "pruning: rule={} min_trials={} warmup_epochs={} min_epochs={} reduction_factor={}\n",
        config.pruning.rule, config.pruning.min_trials, config.pruning.warmup_epochs,
        config.pruning.min_epochs, config.pruning.reduction_factor);
  }
  if (!config.fidelity.is_full()) {
    text +=
        fmt::format("fidelity: data_fraction={} width_multiplier={} resolution={}\n",
                    format_double(config.fidelity.data_fraction),
                    format_double(config.fidelity.width_multiplier), config.fidelity.resolution);
  }
  // Only studies that set objectives list them, so older fingerprints stay as they were.
  if (!config.objectives.is_default()) {
    text += "objectives: " + config.objectives.describe() + "\n";
  }
  for (const auto& decision : config.space.decisions()) {
    text += fmt::format("space: {} {}", decision.name, decision.describe_domain());
    for (const auto& condition : decision.conditions) {
      text += fmt::format(" if {} {} {}", condition.decision,
                          condition.test == Condition::Test::kAtLeast ? ">=" : "in",
                          condition.test == Condition::Test::kAtLeast
                              ? std::to_string(condition.at_least)
                              : join_choices(condition.one_of));
    }
    text += "\n";
  }
  return text;
}

}  // namespace nascent
