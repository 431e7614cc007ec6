#include "nascent/strategy/local_search.h"

#include <cmath>
#include <limits>
#include <unordered_set>

#include "strategy/internal/seen_architectures.h"

namespace nascent {

namespace {

/// Random draws for an unseen starting point before listing the unseen members.
constexpr int64_t kStartAttempts = 100;

/// Moves and restarts one ask() may make without proposing anything. Every move improves and
/// every restart proposes an unseen architecture, so this is only a guard against a space whose
/// neighbourhoods are all known.
constexpr int64_t kMaxStepsPerAsk = 100000;

constexpr double kNoObjective = -std::numeric_limits<double>::infinity();

}  // namespace

LocalSearch::LocalSearch(const SearchSpace& space, uint64_t seed, bool first_improvement,
                         int64_t enumeration_limit, int64_t initial_random)
    : space_(space),
      rng_(seed),
      first_improvement_(first_improvement),
      seen_(std::make_unique<internal::SeenArchitectures>(space, enumeration_limit)),
      initial_random_(std::max<int64_t>(1, initial_random)) {}

LocalSearch::~LocalSearch() = default;

void LocalSearch::tell(const Architecture& architecture, const Observation& observation) {
  const uint64_t key = seen_->key(architecture);
  seen_->insert(key);
  if (awaiting_ == key) awaiting_.reset();
  const bool usable =
      observation.state == TrialState::kComplete && std::isfinite(observation.objective);
  known_.insert_or_assign(key, std::make_pair(internal::in_space_order(space_, architecture),
                                              usable ? observation.objective : kNoObjective));
}

void LocalSearch::move_to(const Architecture& architecture, double objective) {
  current_ = architecture;
  current_objective_ = objective;
  best_neighbour_.reset();

  // Neighbours in random order (Fisher-Yates), each once even if two changes resolve alike.
  unjudged_.clear();
  std::unordered_set<uint64_t> listed;
  for (auto& neighbour : space_.neighbours(architecture, rng_)) {
    if (listed.insert(neighbour.hash()).second) unjudged_.push_back(std::move(neighbour));
  }
  for (int64_t i = static_cast<int64_t>(unjudged_.size()) - 1; i > 0; --i) {
    std::swap(unjudged_[static_cast<size_t>(i)], unjudged_[static_cast<size_t>(rng_.index(i + 1))]);
  }
}

void LocalSearch::judge(const Architecture& neighbour, double objective) {
  if (!(objective > current_objective_)) return;
  if (first_improvement_) {
    move_to(neighbour, objective);
    return;
  }
  if (!best_neighbour_ || objective > best_neighbour_->second) {
    best_neighbour_ = std::make_pair(neighbour, objective);
  }
}

bool LocalSearch::move_to_best_known() {
  const std::pair<Architecture, double>* best = nullptr;
  uint64_t best_key = 0;
  for (const auto& [key, entry] : known_) {
    if (entry.second == kNoObjective) continue;
    // Ties go to the smaller key so the choice does not depend on the map's order.
    if (!best || entry.second > best->second || (entry.second == best->second && key < best_key)) {
      best = &entry;
      best_key = key;
    }
  }
  if (!best) return false;
  move_to(best->first, best->second);
  return true;
}

std::optional<Architecture> LocalSearch::propose_start() {
  // A resumed study starts from the best architecture of its history instead of from scratch.
  if (!started_) {
    started_ = true;
    if (move_to_best_known()) {
      initial_proposed_ = initial_random_;
      initial_done_ = true;
      return std::nullopt;
    }
  }

  // The first climb starts from the best of a few random architectures, as NASLib's local
  // search does (White et al., "Local Search is State of the Art for NAS Benchmarks", 2020):
  // propose them all, then climb from the best.
  if (initial_proposed_ < initial_random_) {
    if (auto sample = seen_->sample_unseen(rng_, kStartAttempts)) {
      ++initial_proposed_;
      seen_->insert(seen_->key(*sample));
      return sample;
    }
    initial_proposed_ = initial_random_;
  }
  if (!initial_done_) {
    initial_done_ = true;
    if (move_to_best_known()) return std::nullopt;
  }

  auto start = seen_->sample_unseen(rng_, kStartAttempts);
  if (!start) {
    if (seen_->exhausted()) return std::nullopt;
    // A large space where every draw was already seen: propose one anyway; its result is
    // answered from the study's cache and the climb goes on from there.
    start = space_.sample(rng_);
  }
  start_ = *start;
  seen_->insert(seen_->key(*start));
  return start;
}

std::optional<Architecture> LocalSearch::ask() {
  for (int64_t step = 0; step < kMaxStepsPerAsk; ++step) {
    // No current architecture: take the proposed start once its result is known, or restart.
    if (!current_) {
      if (start_) {
        const Architecture start = std::move(*start_);
        start_.reset();
        const auto found = known_.find(seen_->key(start));
        if (found != known_.end() && found->second.second != kNoObjective) {
          move_to(start, found->second.second);
          continue;
        }
      }
      auto proposal = propose_start();
      if (current_) continue;
      if (!proposal) return std::nullopt;
      return proposal;
    }

    // Judge the neighbours in order; propose the first one whose result is unknown.
    while (!unjudged_.empty()) {
      const uint64_t key = seen_->key(unjudged_.back());
      if (const auto found = known_.find(key); found != known_.end()) {
        Architecture neighbour = std::move(unjudged_.back());
        unjudged_.pop_back();
        judge(neighbour, found->second.second);
        continue;
      }
      if (awaiting_ == key) {
        // Proposed but never told (the caller skipped it): it cannot be better.
        unjudged_.pop_back();
        awaiting_.reset();
        continue;
      }
      awaiting_ = key;
      seen_->insert(key);
      return unjudged_.back();
    }

    // Whole neighbourhood judged: climb to the best neighbour, or restart from a local optimum.
    if (best_neighbour_ && best_neighbour_->second > current_objective_) {
      const auto best = std::move(*best_neighbour_);
      move_to(best.first, best.second);
      continue;
    }
    ++local_optima_;
    current_.reset();
  }
  return space_.sample(rng_);
}

}  // namespace nascent
