#include "nascent/strategy/hyperband.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "strategy/internal/categorical_density.h"
#include "strategy/internal/seen_architectures.h"

namespace nascent {

namespace {

/// Random draws for an architecture not yet started at a fidelity.
constexpr int64_t kSampleAttempts = 100;

/// BOHB widens the bandwidths of the good density by this factor when sampling candidates, so
/// that proposals explore around the good results instead of repeating them (Falkner et al.).
constexpr double kBandwidthFactor = 3.0;

constexpr double kNoObjective = -std::numeric_limits<double>::infinity();

}  // namespace

Hyperband::Hyperband(const SearchSpace& space, uint64_t seed, MultiFidelityOptions options)
    : space_(space),
      rng_(seed),
      options_(std::move(options)),
      seen_(std::make_unique<internal::SeenArchitectures>(space, options_.enumeration_limit)),
      model_(std::make_unique<internal::CategoricalDensityModel>(space)),
      next_bracket_s_(static_cast<int64_t>(options_.fidelities.size()) - 1) {}

Hyperband::~Hyperband() = default;

std::string Hyperband::name() const {
  switch (options_.kind) {
    case MultiFidelityKind::kSuccessiveHalving:
      return "sh";
    case MultiFidelityKind::kHyperband:
      return "hyperband";
    case MultiFidelityKind::kBohb:
      return "bohb";
  }
  return "hyperband";
}

std::optional<Architecture> Hyperband::ask() {
  auto proposal = propose();
  if (!proposal) return std::nullopt;
  return std::move(proposal->architecture);
}

std::optional<double> Hyperband::result(int64_t fidelity, uint64_t key) const {
  const auto at_fidelity = results_.find(fidelity);
  if (at_fidelity == results_.end()) return std::nullopt;
  const auto found = at_fidelity->second.find(key);
  if (found == at_fidelity->second.end()) return std::nullopt;
  return found->second;
}

void Hyperband::tell(const Architecture& architecture, const Observation& observation) {
  const int64_t fidelity =
      observation.fidelity > 0 ? observation.fidelity : options_.fidelities.back();
  const Architecture ordered = internal::in_space_order(space_, architecture);
  const uint64_t key = ordered.hash();
  const bool usable =
      observation.state == TrialState::kComplete && std::isfinite(observation.objective);
  const double objective = usable ? observation.objective : kNoObjective;

  // The first result at a fidelity counts; a repeat (served from a cache) changes nothing.
  if (!results_[fidelity].emplace(key, objective).second) return;
  history_[fidelity].emplace_back(ordered, objective);
  started_[fidelity].insert(key);
  if (fidelity == options_.fidelities.front()) seen_->insert(key);
}

std::optional<Architecture> Hyperband::new_architecture(int64_t fidelity) {
  auto& started = started_[fidelity];
  const auto is_new = [&](const Architecture& architecture) {
    return !started.contains(internal::in_space_order(space_, architecture).hash());
  };

  if (options_.kind == MultiFidelityKind::kBohb && rng_.uniform() >= options_.random_fraction) {
    // The model of the highest fidelity with enough results: BOHB needs d + 1 points in each
    // density, and two more so that the densities are not fitted to the same points.
    const int64_t minimum_points = model_->decision_count() + 1;
    for (auto level = history_.rbegin(); level != history_.rend(); ++level) {
      if (static_cast<int64_t>(level->second.size()) < minimum_points + 2) continue;
      model_->fit(level->second, options_.top_fraction, minimum_points);
      if (!model_->fitted()) break;

      std::optional<Architecture> best;
      double best_ratio = -std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < options_.kde_samples; ++i) {
        Architecture candidate = model_->sample_good(rng_, kBandwidthFactor);
        if (!is_new(candidate)) continue;
        const double ratio = model_->log_ratio(candidate);
        if (ratio > best_ratio) {
          best_ratio = ratio;
          best = std::move(candidate);
        }
      }
      if (best) return best;
      break;
    }
  }

  // Uniform: a member not started at this fidelity, from the space's unseen ones first.
  for (int64_t attempt = 0; attempt < kSampleAttempts; ++attempt) {
    Architecture candidate = space_.sample(rng_);
    if (is_new(candidate)) return candidate;
  }
  if (fidelity == options_.fidelities.front()) return seen_->sample_unseen(rng_, 0);
  return std::nullopt;
}

std::optional<Hyperband::Bracket> Hyperband::open_bracket() {
  const auto rungs = static_cast<int64_t>(options_.fidelities.size());
  const int64_t s = next_bracket_s_;
  if (options_.kind != MultiFidelityKind::kSuccessiveHalving) {
    next_bracket_s_ = s == 0 ? rungs - 1 : s - 1;
  }

  int64_t size = options_.bracket_size;
  if (size <= 0) {
    size = static_cast<int64_t>(std::ceil(static_cast<double>(rungs) / static_cast<double>(s + 1) *
                                          std::pow(options_.eta, static_cast<double>(s))));
  }

  Bracket bracket;
  bracket.rung = rungs - 1 - s;
  bracket.to_draw = size;
  if (!draw_member(bracket)) return std::nullopt;
  ++brackets_opened_;
  return bracket;
}

bool Hyperband::draw_member(Bracket& bracket) {
  const int64_t fidelity = options_.fidelities[static_cast<size_t>(bracket.rung)];
  auto architecture = new_architecture(fidelity);
  if (!architecture) {
    bracket.to_draw = 0;
    return false;
  }
  --bracket.to_draw;
  started_[fidelity].insert(internal::in_space_order(space_, *architecture).hash());
  if (fidelity == options_.fidelities.front()) seen_->insert(seen_->key(*architecture));
  bracket.members.push_back(std::move(*architecture));
  return true;
}

bool Hyperband::advance(Bracket& bracket) {
  const int64_t fidelity = options_.fidelities[static_cast<size_t>(bracket.rung)];
  std::vector<std::pair<double, size_t>> ranked;
  for (size_t i = 0; i < bracket.members.size(); ++i) {
    const auto objective = result(fidelity, bracket.members[i].hash());
    ranked.emplace_back(*objective, i);
  }
  if (bracket.rung + 1 >= static_cast<int64_t>(options_.fidelities.size())) return false;

  // The best 1/eta move on; equal results keep the member that came first.
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  const auto keep = std::max<size_t>(
      1, static_cast<size_t>(std::floor(static_cast<double>(ranked.size()) / options_.eta)));
  std::vector<Architecture> promoted;
  for (size_t i = 0; i < keep && i < ranked.size(); ++i) {
    if (ranked[i].first == kNoObjective) break;
    promoted.push_back(bracket.members[ranked[i].second]);
  }
  if (promoted.empty()) return false;
  bracket.members = std::move(promoted);
  bracket.rung += 1;
  bracket.next = 0;
  return true;
}

std::optional<Proposal> Hyperband::propose() {
  // Open brackets are served oldest first, so that promotions are not starved by new brackets.
  for (size_t b = 0; b < open_.size();) {
    Bracket& bracket = open_[b];
    const int64_t fidelity = options_.fidelities[static_cast<size_t>(bracket.rung)];
    while (bracket.next < bracket.members.size()) {
      Architecture& member = bracket.members[bracket.next++];
      member = internal::in_space_order(space_, member);
      // A result already known at this fidelity (replayed, or reached by another bracket) is
      // not evaluated again.
      if (result(fidelity, member.hash())) continue;
      return Proposal{member, fidelity};
    }
    if (bracket.to_draw > 0 && draw_member(bracket)) continue;

    const bool complete =
        std::all_of(bracket.members.begin(), bracket.members.end(),
                    [&](const Architecture& member) { return result(fidelity, member.hash()); });
    if (!complete) {
      ++b;  // Waiting for results of other workers.
      continue;
    }
    if (!advance(bracket)) {
      open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(b));
    }
  }

  // A bracket type may have run out of new architectures (a small space, all started at its
  // first fidelity) while another has not: try each type once before giving up.
  const auto rungs = static_cast<int64_t>(options_.fidelities.size());
  for (int64_t attempt = 0; attempt < rungs; ++attempt) {
    auto bracket = open_bracket();
    if (!bracket) continue;
    open_.push_back(std::move(*bracket));
    return propose();
  }
  return std::nullopt;
}

}  // namespace nascent
