#include "nascent/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "nascent/core/error.h"
#include "nascent/eval/pareto.h"
#include "nascent/experiment/config.h"
#include "nascent/experiment/study_pareto.h"
#include "nascent/nn/cell_network.h"
#include "nascent/space/nasbench201.h"
#include "nascent/store/store.h"
#include "nascent/store/study_files.h"

namespace nascent {

namespace {

namespace fs = std::filesystem;

std::string escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

/// One dot of a scatter chart.
struct ChartPoint {
  double x = 0.0;
  double y = 0.0;
  std::string label;
  bool highlighted = false;
};

struct ChartSpec {
  std::string id;
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;
  /// Join the highlighted points with a line (a Pareto front, or the best so far).
  bool connect_highlighted = false;
  /// The x values are whole numbers (trial ids): ticks only at integers, each once.
  bool integer_x = false;
};

constexpr double kWidth = 560;
constexpr double kHeight = 340;
constexpr double kLeft = 64;
constexpr double kRight = 16;
constexpr double kTop = 36;
constexpr double kBottom = 48;

std::string tick_text(double value, bool log_scale) {
  if (log_scale) value = std::pow(10.0, value);
  if (std::abs(value) >= 1e6) return fmt::format("{:.3g}M", value / 1e6);
  if (std::abs(value) >= 1e3) return fmt::format("{:.3g}k", value / 1e3);
  return fmt::format("{:.3g}", value);
}

/// At most five tick positions on an axis of whole numbers from `low` to `high`: the multiples
/// of the smallest step among 1, 2, 5, 10, 20, 50, ... that fit. Evenly spaced ticks would
/// label a trial axis 2.5 or, rounded, repeat a number.
std::vector<double> integer_ticks(double low, double high) {
  for (double magnitude = 1;; magnitude *= 10) {
    for (const double multiple : {1.0, 2.0, 5.0}) {
      const double step = multiple * magnitude;
      const double first = std::ceil(low / step);
      const double last = std::floor(high / step);
      if (last - first + 1 > 5) continue;
      std::vector<double> ticks;
      for (double k = first; k <= last; ++k) ticks.push_back(k * step);
      return ticks;
    }
  }
}

/// An SVG scatter chart with axes, ticks and a title; highlighted points drawn on top.
std::string scatter_chart(const ChartSpec& spec, const std::vector<ChartPoint>& points) {
  std::string svg = fmt::format(
      "<svg class=\"chart\" id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
      "height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n",
      spec.id, kWidth, kHeight, kWidth, kHeight, escape(spec.title));
  svg +=
      fmt::format("<text x=\"{}\" y=\"20\" class=\"title\">{}</text>\n", kLeft, escape(spec.title));

  std::vector<ChartPoint> shown;
  for (auto point : points) {
    if (!std::isfinite(point.x) || !std::isfinite(point.y)) continue;
    if (spec.log_x) {
      if (point.x <= 0) continue;
      point.x = std::log10(point.x);
    }
    shown.push_back(point);
  }
  const double plot_width = kWidth - kLeft - kRight;
  const double plot_height = kHeight - kTop - kBottom;
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", kLeft,
      kTop, plot_width, plot_height);
  if (shown.empty()) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" class=\"empty\">no data</text>\n",
                       kLeft + plot_width / 2 - 30, kTop + plot_height / 2);
    return svg + "</svg>\n";
  }

  double x_low = shown[0].x, x_high = shown[0].x, y_low = shown[0].y, y_high = shown[0].y;
  for (const auto& point : shown) {
    x_low = std::min(x_low, point.x);
    x_high = std::max(x_high, point.x);
    y_low = std::min(y_low, point.y);
    y_high = std::max(y_high, point.y);
  }
  // Ticks of an integer axis lie on the data, not on the padding around it.
  const std::vector<double> x_integer_ticks =
      spec.integer_x ? integer_ticks(x_low, x_high) : std::vector<double>();
  const double x_pad = x_high > x_low ? (x_high - x_low) * 0.05 : 0.5;
  const double y_pad = y_high > y_low ? (y_high - y_low) * 0.05 : 0.01;
  x_low -= x_pad;
  x_high += x_pad;
  y_low -= y_pad;
  y_high += y_pad;
  const auto to_x = [&](double x) { return kLeft + (x - x_low) / (x_high - x_low) * plot_width; };
  const auto to_y = [&](double y) {
    return kTop + plot_height - (y - y_low) / (y_high - y_low) * plot_height;
  };

  std::vector<double> x_ticks = x_integer_ticks;
  if (!spec.integer_x) {
    for (int tick = 0; tick <= 4; ++tick) x_ticks.push_back(x_low + (x_high - x_low) * tick / 4.0);
  }
  for (const double x : x_ticks) {
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" "
        "text-anchor=\"middle\">{}</text>\n",
        to_x(x), kTop + plot_height + 16,
        spec.integer_x ? std::to_string(std::llround(x)) : tick_text(x, spec.log_x));
  }
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = y_low + (y_high - y_low) * tick / 4.0;
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" "
        "text-anchor=\"end\">{}</text>\n",
        kLeft - 6, to_y(y) + 4, tick_text(y, false));
  }
  svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{}{}</text>\n",
      kLeft + plot_width / 2, kHeight - 8, escape(spec.x_label), spec.log_x ? " (log scale)" : "");
  svg += fmt::format(
      "<text x=\"14\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 14 {:.1f})\">{}</text>\n",
      kTop + plot_height / 2, kTop + plot_height / 2, escape(spec.y_label));

  if (spec.connect_highlighted) {
    std::vector<ChartPoint> line;
    for (const auto& point : shown) {
      if (point.highlighted) line.push_back(point);
    }
    std::sort(line.begin(), line.end(), [](const auto& a, const auto& b) { return a.x < b.x; });
    std::string path;
    for (const auto& point : line) {
      path +=
          fmt::format("{}{:.1f},{:.1f} ", path.empty() ? "M" : "L", to_x(point.x), to_y(point.y));
    }
    if (!path.empty()) svg += fmt::format("<path class=\"front-line\" d=\"{}\"/>\n", path);
  }
  for (bool highlighted : {false, true}) {
    for (const auto& point : shown) {
      if (point.highlighted != highlighted) continue;
      svg += fmt::format(
          "<circle class=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\"><title>{}</title></circle>\n",
          highlighted ? "point front" : "point", to_x(point.x), to_y(point.y),
          highlighted ? 5 : 3.5, escape(point.label));
    }
  }
  return svg + "</svg>\n";
}

std::string number_cell(double value, const std::string& text) {
  if (!std::isfinite(value)) return "<td data-value=\"\">-</td>";
  return fmt::format("<td data-value=\"{}\">{}</td>", value, text);
}

std::string short_architecture(const ReportInput& input, const TrialRecord& trial) {
  try {
    if (input.family.family == "nasbench201") {
      return describe_cell(parse_nasbench201_arch_str(trial.architecture));
    }
    return plan_network(Architecture::from_string(trial.architecture), input.input,
                        input.num_classes)
        .short_description();
  } catch (const std::exception&) {
    // An architecture that cannot be planned is an invalid one: its reason says more.
    return trial.error.empty() ? trial.architecture : trial.error;
  }
}

std::string trials_table(const ReportInput& input, const std::vector<int64_t>& front_ids) {
  std::string html =
      "<table id=\"trials\"><thead><tr>"
      "<th data-key=\"id\">trial</th><th data-key=\"state\">state</th>"
      "<th data-key=\"accuracy\">val accuracy</th><th data-key=\"params\">params</th>"
      "<th data-key=\"flops\">FLOPs</th><th data-key=\"latency\">latency ms</th>"
      "<th data-key=\"memory\">memory MB</th><th data-key=\"seconds\">train s</th>"
      "<th data-key=\"front\">front</th><th data-key=\"arch\">architecture</th>"
      "</tr></thead><tbody>\n";
  for (const auto& trial : input.trials) {
    const TrialMetrics metrics = trial_metrics(trial);
    const bool on_front =
        std::find(front_ids.begin(), front_ids.end(), trial.id) != front_ids.end();
    html += fmt::format("<tr{}>", on_front ? " class=\"front\"" : "");
    html += number_cell(static_cast<double>(trial.id), std::to_string(trial.id));
    html += fmt::format("<td data-value=\"{}\">{}</td>", to_string(trial.state),
                        to_string(trial.state));
    html += number_cell(metrics.accuracy, fmt::format("{:.2f}%", metrics.accuracy * 100));
    html += number_cell(metrics.params, fmt::format("{}", trial.params));
    html += number_cell(metrics.flops, fmt::format("{}", trial.flops));
    html += number_cell(metrics.latency_ms, fmt::format("{:.3f}", metrics.latency_ms));
    html += number_cell(metrics.memory_mb, fmt::format("{:.2f}", metrics.memory_mb));
    html += number_cell(trial.train_seconds, fmt::format("{:.1f}", trial.train_seconds));
    html += fmt::format("<td data-value=\"{}\">{}</td>", on_front ? 1 : 0, on_front ? "yes" : "");
    const std::string description = short_architecture(input, trial);
    html += fmt::format("<td data-value=\"{}\" title=\"{}\">{}</td></tr>\n", escape(description),
                        escape(trial.architecture), escape(description));
  }
  return html + "</tbody></table>\n";
}

/// Boxes top to bottom: input, stem, every layer, head.
std::string macro_diagram(const NetworkPlan& plan) {
  std::vector<std::pair<std::string, std::string>> boxes;
  boxes.emplace_back("input", plan.input.to_string());
  boxes.emplace_back(fmt::format("stem: conv3 {} + BN + ReLU", plan.stem_channels),
                     plan.stem_output.to_string());
  for (const auto& layer : plan.layers) {
    std::string text = layer.name + ": ";
    if (layer.pre_pool != "none") text += layer.pre_pool + " 2x2, ";
    text += layer.op;
    if (layer.op != "identity") text += fmt::format(" k{}", layer.kernel);
    if (layer.op == "mbconv") text += fmt::format(" x{}", layer.expansion);
    if (layer.stride == 2) text += " /2";
    if (layer.op == "conv" || layer.op == "sep_conv" || layer.op == "mbconv") {
      text += " " + layer.activation + (layer.batch_norm ? " BN" : "");
    }
    if (layer.skip_from >= 0) text += fmt::format(" (+ node {})", layer.skip_from);
    boxes.emplace_back(text, layer.output.to_string());
  }
  std::string head = "head: global pool";
  for (int64_t width : plan.dense_widths) head += fmt::format(", dense {}", width);
  if (plan.dropout > 0) head += fmt::format(", dropout {}", plan.dropout);
  head += fmt::format(", linear {}", plan.num_classes);
  boxes.emplace_back(head, fmt::format("[{}]", plan.num_classes));

  const double box_height = 30;
  const double gap = 16;
  const double height = static_cast<double>(boxes.size()) * (box_height + gap);
  std::string svg = fmt::format(
      "<svg id=\"best-architecture\" class=\"diagram\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"620\" height=\"{}\" viewBox=\"0 0 620 {}\">\n",
      height, height);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const double y = static_cast<double>(i) * (box_height + gap) + 4;
    svg += fmt::format(
        "<rect class=\"layer\" x=\"10\" y=\"{}\" width=\"440\" height=\"{}\" rx=\"5\"/>"
        "<text x=\"20\" y=\"{}\">{}</text><text x=\"460\" y=\"{}\" class=\"shape\">{}</text>\n",
        y, box_height, y + 19, escape(boxes[i].first), y + 19, escape(boxes[i].second));
    if (i + 1 < boxes.size()) {
      svg += fmt::format("<line class=\"arrow\" x1=\"230\" y1=\"{}\" x2=\"230\" y2=\"{}\"/>\n",
                         y + box_height, y + box_height + gap);
    }
  }
  return svg + "</svg>\n";
}

/// The cell as a graph: 4 nodes in a row, one labelled curve per edge that is not "none".
std::string cell_diagram(const Architecture& architecture, const CellNetworkOptions& options) {
  std::string svg =
      "<svg id=\"best-architecture\" class=\"diagram\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"620\" height=\"260\" viewBox=\"0 0 620 260\">\n";
  const auto node_x = [](int64_t node) { return 60.0 + 160.0 * static_cast<double>(node); };
  const double node_y = 200;
  for (const auto& edge : nasbench201_edges()) {
    const std::string& op = architecture.get(edge.decision_name());
    if (op == "none") continue;
    const double x1 = node_x(edge.from);
    const double x2 = node_x(edge.to);
    const double lift = 40.0 * static_cast<double>(edge.to - edge.from);
    svg += fmt::format(
        "<path class=\"edge\" d=\"M{},{} Q{},{} {},{}\"/><text x=\"{}\" y=\"{}\" "
        "class=\"edge-label\" text-anchor=\"middle\">{}</text>\n",
        x1, node_y, (x1 + x2) / 2, node_y - 2 * lift, x2, node_y, (x1 + x2) / 2, node_y - lift - 4,
        escape(op));
  }
  for (int64_t node = 0; node <= 3; ++node) {
    svg += fmt::format(
        "<circle class=\"node\" cx=\"{}\" cy=\"{}\" r=\"18\"/><text x=\"{}\" y=\"{}\" "
        "text-anchor=\"middle\">{}</text>\n",
        node_x(node), node_y, node_x(node), node_y + 5, node);
  }
  svg += fmt::format(
      "<text x=\"10\" y=\"250\">cell (node 0 input, node 3 output), repeated {} times in each of "
      "3 stages of {}, {} and {} channels</text>\n",
      options.cells_per_stage, options.channels, options.channels * 2, options.channels * 4);
  return svg + "</svg>\n";
}

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { background: #fff; border: 1px solid #ddd; }
svg .title { font-size: 14px; font-weight: bold; } svg .tick { font-size: 11px; fill: #555; }
svg .axis { font-size: 12px; } svg .empty { fill: #999; }
circle.point { fill: #9bb7d4; stroke: #4a6f96; } circle.front { fill: #e4572e; stroke: #8c2a10; }
path.front-line { fill: none; stroke: #e4572e; stroke-width: 1.5; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
td:last-child { text-align: left; font-family: monospace; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
th.sorted-ascending::after { content: " \25B2"; } th.sorted-descending::after { content: " \25BC"; }
tr.front td { background: #fde8e1; }
svg.diagram rect.layer { fill: #eef3f8; stroke: #4a6f96; } svg.diagram text { font-size: 13px; }
svg.diagram text.shape { fill: #666; font-family: monospace; }
svg.diagram line.arrow, svg.diagram path.edge { stroke: #4a6f96; stroke-width: 1.5; fill: none; }
svg.diagram circle.node { fill: #eef3f8; stroke: #4a6f96; }
.note { color: #666; font-size: 13px; }
)";

// Sorting by a column: numbers by data-value, text by its order; a second click reverses.
constexpr const char* kScript = R"(
(function () {
  var table = document.getElementById('trials');
  var headers = table.querySelectorAll('th');
  function sortBy(key, descending) {
    var column = -1;
    headers.forEach(function (header, index) {
      header.classList.remove('sorted-ascending', 'sorted-descending');
      if (header.dataset.key === key) column = index;
    });
    if (column < 0) return;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
      var nx = parseFloat(x), ny = parseFloat(y);
      var order;
      if (x === '' && y === '') order = 0;
      else if (x === '') return 1;
      else if (y === '') return -1;
      else if (!isNaN(nx) && !isNaN(ny)) order = nx - ny;
      else order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers[column].classList.add(descending ? 'sorted-descending' : 'sorted-ascending');
    table.dataset.sortedBy = key + (descending ? ':descending' : ':ascending');
  }
  headers.forEach(function (header) {
    header.addEventListener('click', function () {
      sortBy(header.dataset.key, header.classList.contains('sorted-ascending'));
    });
  });
  var match = /sort=([a-z]+)(:descending)?/.exec(window.location.hash);
  if (match) sortBy(match[1], !!match[2]);
  document.body.dataset.ready = 'true';
})();
)";

}  // namespace

std::string render_html_report(const ReportInput& input) {
  // Points of every complete trial, and the study's front under its own objectives.
  const ParetoReport study_front = pareto_report(input.trials, input.objectives);
  std::vector<int64_t> front_ids;
  for (const auto& entry : study_front.front) front_ids.push_back(entry.trial.id);

  double start = std::numeric_limits<double>::infinity();
  for (const auto& trial : input.trials) start = std::min(start, trial.started_at);

  std::vector<ChartPoint> by_trial;
  std::vector<ChartPoint> by_time;
  double best_so_far = -1;
  for (const auto& trial : input.trials) {
    if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) continue;
    const bool improves = trial.validation_accuracy > best_so_far;
    best_so_far = std::max(best_so_far, trial.validation_accuracy);
    const std::string label =
        fmt::format("trial {}: {:.2f}%", trial.id, trial.validation_accuracy * 100);
    by_trial.push_back({static_cast<double>(trial.id), trial.validation_accuracy, label, improves});
    by_time.push_back(
        {(trial.finished_at - start) / 60.0, trial.validation_accuracy, label, improves});
  }

  // Two-objective fronts for the two trade-off charts.
  const auto front_chart = [&](const std::string& metric) {
    ObjectivesConfig two;
    two.optimize = {"accuracy", metric};
    two.constraints = input.objectives.constraints;
    const ParetoReport front = pareto_report(input.trials, two);
    std::vector<ChartPoint> points;
    for (const auto& trial : input.trials) {
      if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) continue;
      const TrialMetrics metrics = trial_metrics(trial);
      const bool on_front = std::any_of(front.front.begin(), front.front.end(),
                                        [&](const auto& e) { return e.trial.id == trial.id; });
      points.push_back({metrics.value(metric), metrics.accuracy,
                        fmt::format("trial {}: {:.2f}%, {} {:.4g}", trial.id,
                                    metrics.accuracy * 100, metric, metrics.value(metric)),
                        on_front});
    }
    return points;
  };
  const std::vector<ChartPoint> by_params = front_chart("params");
  const std::vector<ChartPoint> by_latency = front_chart("latency_ms");
  const bool latency_measured =
      std::any_of(by_latency.begin(), by_latency.end(),
                  [](const ChartPoint& point) { return std::isfinite(point.x); });

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  html +=
      fmt::format("<title>{}</title><style>{}</style></head><body>\n", escape(input.title), kStyle);
  html += fmt::format("<h1>{}</h1>\n", escape(input.title));

  int64_t complete = 0;
  for (const auto& trial : input.trials) complete += trial.state == TrialState::kComplete;
  html +=
      fmt::format("<p>{} trials, {} complete. Objectives: {}. {}</p>\n", input.trials.size(),
                  complete, escape(fmt::format("{}", fmt::join(input.objectives.optimize, ", "))),
                  escape(study_front.message));
  const nlohmann::json& best =
      input.summary.is_object() ? input.summary.value("best", nlohmann::json()) : nlohmann::json();
  if (best.is_object()) {
    html += fmt::format(
        "<p id=\"best-summary\">Best: trial {}, validation {:.2f}%{}, {} parameters{}.</p>\n",
        best.value("trial_id", int64_t{0}), best.value("val_accuracy", 0.0) * 100,
        best.contains("test_accuracy")
            ? fmt::format(", test {:.2f}%", best["test_accuracy"].get<double>() * 100)
            : "",
        best.value("params", int64_t{0}),
        best.contains("latency_ms")
            ? fmt::format(", {:.3f} ms at batch 1", best["latency_ms"].get<double>())
            : "");
  }

  html += "<h2>Search progress</h2><div class=\"charts\">\n";
  html += scatter_chart({"chart-accuracy-trial", "Validation accuracy by trial", "trial",
                         "validation accuracy", false, true, true},
                        by_trial);
  html += scatter_chart({"chart-accuracy-time", "Validation accuracy over time",
                         "minutes since the first trial", "validation accuracy", false, true},
                        by_time);
  html +=
      "</div>\n<h2>Pareto front</h2>\n<p class=\"note\">Red: trials on the front of "
      "validation accuracy against the chart's cost (feasible trials only).</p>"
      "<div class=\"charts\">\n";
  html += scatter_chart({"chart-pareto-params", "Accuracy against parameters", "parameters",
                         "validation accuracy", true, true},
                        by_params);
  html += scatter_chart({"chart-pareto-latency", "Accuracy against latency (batch 1)", "latency ms",
                         "validation accuracy", true, true},
                        by_latency);
  html += "</div>\n";
  if (!latency_measured) {
    html +=
        "<p class=\"note\" id=\"latency-note\">Latency was not measured during this search: "
        "no objective or constraint used it (add latency_ms to objectives.optimize).</p>\n";
  }

  html += "<h2>Best architecture</h2>\n";
  if (best.is_object() && best.contains("arch")) {
    try {
      const std::string arch = best["arch"].get<std::string>();
      if (input.family.family == "nasbench201") {
        html += cell_diagram(parse_nasbench201_arch_str(arch), input.family.cell);
      } else {
        html += macro_diagram(
            plan_network(Architecture::from_string(arch), input.input, input.num_classes));
      }
      html += fmt::format("<p class=\"note\"><code>{}</code></p>\n", escape(arch));
    } catch (const std::exception& error) {
      html += fmt::format("<p class=\"note\">cannot draw the architecture: {}</p>\n",
                          escape(error.what()));
    }
  } else {
    html += "<p class=\"note\">no finished search yet, so no best architecture</p>\n";
  }

  html += "<h2>Trials</h2><p class=\"note\">Click a column header to sort.</p>\n";
  html += trials_table(input, front_ids);
  html += fmt::format("<script>{}</script>\n</body></html>\n", kScript);
  return html;
}

nlohmann::json write_study_report(const std::string& study_dir, const std::string& output) {
  return write_study_report(Store::open_study_directory(study_dir), study_dir, output);
}

nlohmann::json write_study_report(const Store& store, const std::string& study_dir,
                                  const std::string& output) {
  check_study_output(output, "--output", study_dir);

  ReportInput input;
  input.trials = store.trials();
  const auto config_text = store.study_value("config_text");
  if (!config_text) {
    throw Error(fmt::format("{}: expected the experiment file stored with the study, found none",
                            store.path()));
  }
  const ExperimentConfig config = parse_experiment_config(
      *config_text, store.study_value("config_path").value_or(store.path()));
  input.title = "nascent study " + config.study;
  input.objectives = config.objectives;
  input.family = config.network;
  input.num_classes = std::stoll(store.study_value("num_classes").value_or("0"));
  if (const auto shape = study_input_shape(store, study_dir)) input.input = *shape;

  // summary.json adds the final model. The trials are in the store, so a damaged summary (a
  // search killed while writing it) costs only that part, with a warning, not the report.
  std::string warning;
  const std::string summary_path = (fs::path(study_dir) / "summary.json").string();
  if (!study_dir.empty() && fs::exists(summary_path)) {
    std::ifstream file(summary_path);
    nlohmann::json summary = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json data =
        summary.is_object() ? summary.value("data", nlohmann::json()) : nlohmann::json();
    const nlohmann::json shape =
        data.is_object() ? data.value("input_shape", nlohmann::json()) : nlohmann::json();
    const bool usable = shape.is_array() && shape.size() == 3 &&
                        std::all_of(shape.begin(), shape.end(),
                                    [](const nlohmann::json& size) { return size.is_number(); }) &&
                        data.value("num_classes", nlohmann::json()).is_number();
    if (usable) {
      input.summary = std::move(summary);
      input.input = {shape[0].get<int64_t>(), shape[1].get<int64_t>(), shape[2].get<int64_t>()};
      input.num_classes = data["num_classes"].get<int64_t>();
    } else {
      warning = fmt::format(
          "{}: expected a summary written by nascent search, found {}; the report shows the "
          "trials without the final model (run the same nascent search to write it again)",
          summary_path,
          summary.is_discarded() ? "a file that is not JSON" : "one without its data");
    }
  }

  const std::string html = render_html_report(input);
  // A failed write leaves nothing behind: neither `output` nor its temporary file.
  const std::string temporary = output + ".partial";
  std::error_code error;
  {
    std::ofstream file(temporary);
    file << html;
    if (!file) {
      fs::remove(temporary, error);
      throw Error(
          fmt::format("--output {}: expected a writable file, found that it cannot be "
                      "written",
                      output));
    }
  }
  fs::rename(temporary, output, error);
  if (error) {
    fs::remove(temporary, error);
    throw Error(fmt::format(
        "--output {}: expected a file that can be replaced, found that it cannot be", output));
  }
  nlohmann::json result = {{"output", output},
                           {"trials", input.trials.size()},
                           {"bytes", static_cast<int64_t>(html.size())}};
  if (!warning.empty()) result["warning"] = warning;
  return result;
}

}  // namespace nascent
