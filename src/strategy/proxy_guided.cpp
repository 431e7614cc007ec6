#include "nascent/strategy/proxy_guided.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <unordered_set>

#include "nascent/core/error.h"

namespace nascent {

namespace {

void check_counts(int64_t candidates, int64_t keep, const char* what) {
  if (keep < 1 || keep > candidates) {
    throw Error(
        fmt::format("{}: expected 1 <= keep <= candidates, found keep {} and "
                    "candidates {}",
                    what, keep, candidates));
  }
}

/// The `keep` best of `architectures` by `score`, best first; ties keep their order.
std::vector<Architecture> best_by_score(std::vector<Architecture> architectures,
                                        const ArchitectureScore& score, int64_t keep) {
  std::vector<std::pair<double, size_t>> scored;
  for (size_t i = 0; i < architectures.size(); ++i) scored.emplace_back(score(architectures[i]), i);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Architecture> best;
  for (size_t i = 0; i < scored.size() && static_cast<int64_t>(i) < keep; ++i) {
    best.push_back(std::move(architectures[scored[i].second]));
  }
  return best;
}

class ProxyGuidedStrategy : public Strategy {
 public:
  ProxyGuidedStrategy(std::unique_ptr<Strategy> inner, ArchitectureScore score, int64_t candidates,
                      int64_t keep)
      : inner_(std::move(inner)), score_(std::move(score)), candidates_(candidates), keep_(keep) {}

  std::string name() const override { return inner_->name(); }

  void tell(const Architecture& architecture, const Observation& observation) override {
    inner_->tell(architecture, observation);
  }

 protected:
  std::unique_ptr<Strategy> inner_;
  ArchitectureScore score_;
  int64_t candidates_;
  int64_t keep_;
  std::deque<Architecture> queue_;
};

class ProxyPrefilter : public ProxyGuidedStrategy {
 public:
  using ProxyGuidedStrategy::ProxyGuidedStrategy;

  std::optional<Architecture> ask() override {
    if (queue_.empty()) {
      // One round: up to `candidates` distinct proposals, of which the best `keep` are queued.
      std::vector<Architecture> round;
      std::unordered_set<std::string> hashes;
      for (int64_t i = 0; i < candidates_; ++i) {
        std::optional<Architecture> proposal = inner_->ask();
        if (!proposal) break;
        if (hashes.insert(proposal->hash_hex()).second) round.push_back(std::move(*proposal));
      }
      for (auto& architecture : best_by_score(std::move(round), score_, keep_)) {
        queue_.push_back(std::move(architecture));
      }
    }
    if (queue_.empty()) return std::nullopt;
    Architecture next = std::move(queue_.front());
    queue_.pop_front();
    return next;
  }
};

class ProxyWarmStart : public ProxyGuidedStrategy {
 public:
  ProxyWarmStart(std::unique_ptr<Strategy> inner, const SearchSpace& space, ArchitectureScore score,
                 int64_t candidates, int64_t keep, uint64_t seed)
      : ProxyGuidedStrategy(std::move(inner), std::move(score), candidates, keep),
        space_(space),
        seed_(seed) {}

  std::optional<Architecture> ask() override {
    if (!warmed_up_) {
      warmed_up_ = true;
      Rng rng(seed_);
      std::vector<Architecture> sample;
      std::unordered_set<std::string> hashes;
      // A small space may hold fewer than `candidates` architectures: give up after a while.
      for (int64_t attempt = 0;
           attempt < 20 * candidates_ && static_cast<int64_t>(sample.size()) < candidates_;
           ++attempt) {
        Architecture architecture = space_.sample(rng);
        if (hashes.insert(architecture.hash_hex()).second) sample.push_back(architecture);
      }
      for (auto& architecture : best_by_score(std::move(sample), score_, keep_)) {
        queue_.push_back(std::move(architecture));
      }
    }
    if (queue_.empty()) return inner_->ask();
    Architecture next = std::move(queue_.front());
    queue_.pop_front();
    return next;
  }

 private:
  SearchSpace space_;
  uint64_t seed_;
  bool warmed_up_ = false;
};

}  // namespace

std::unique_ptr<Strategy> make_proxy_prefilter(std::unique_ptr<Strategy> inner,
                                               ArchitectureScore score, int64_t candidates,
                                               int64_t keep) {
  check_counts(candidates, keep, "proxy pre-filter");
  return std::make_unique<ProxyPrefilter>(std::move(inner), std::move(score), candidates, keep);
}

std::unique_ptr<Strategy> make_proxy_warm_start(std::unique_ptr<Strategy> inner,
                                                const SearchSpace& space, ArchitectureScore score,
                                                int64_t candidates, int64_t keep, uint64_t seed) {
  check_counts(candidates, keep, "proxy warm start");
  return std::make_unique<ProxyWarmStart>(std::move(inner), space, std::move(score), candidates,
                                          keep, seed);
}

}  // namespace nascent
