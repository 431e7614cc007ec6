#include "nascent/strategy/proxy_guided.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "error_expectations.h"

namespace nascent {
namespace {

using testing_support::error_message;

SearchSpace one_number_space() {
  SearchSpace space;
  space.add(Decision::integer("x", 0, 99));
  return space;
}

/// Proposes a fixed list of values of x in order and records what it is told.
class ListStrategy : public Strategy {
 public:
  ListStrategy(const SearchSpace& space, std::vector<int64_t> values)
      : space_(space), values_(values.begin(), values.end()) {}
  std::string name() const override { return "list"; }
  std::optional<Architecture> ask() override {
    if (values_.empty()) return std::nullopt;
    const int64_t value = values_.front();
    values_.pop_front();
    return space_.parse("x=" + std::to_string(value));
  }
  void tell(const Architecture& architecture, const Observation&) override {
    told->push_back(architecture.get_int("x"));
  }
  std::shared_ptr<std::vector<int64_t>> told = std::make_shared<std::vector<int64_t>>();

 private:
  SearchSpace space_;
  std::deque<int64_t> values_;
};

double score_x(const Architecture& architecture) {
  return static_cast<double>(architecture.get_int("x"));
}

TEST(ProxyGuidedTest, PrefilterProposesTheBestOfEachRoundAndPassesResultsOn) {
  const SearchSpace space = one_number_space();
  auto inner = std::make_unique<ListStrategy>(space, std::vector<int64_t>{5, 9, 1, 7, 3, 8, 2});
  const auto told = inner->told;
  auto strategy = make_proxy_prefilter(std::move(inner), score_x, 3, 2);

  // Rounds {5, 9, 1} -> 9, 5; {7, 3, 8} -> 8, 7; {2} -> 2; then nothing.
  std::vector<int64_t> proposed;
  while (auto architecture = strategy->ask()) {
    proposed.push_back(architecture->get_int("x"));
    strategy->tell(*architecture, {TrialState::kComplete, 0.5});
  }
  EXPECT_EQ(proposed, (std::vector<int64_t>{9, 5, 8, 7, 2}));
  EXPECT_EQ(*told, proposed);
  EXPECT_EQ(strategy->name(), "list");
}

TEST(ProxyGuidedTest, WarmStartProposesTheTopOfASampleFirstThenTheStrategy) {
  const SearchSpace space = one_number_space();
  auto inner = std::make_unique<ListStrategy>(space, std::vector<int64_t>{4, 6});
  auto strategy = make_proxy_warm_start(std::move(inner), space, score_x, 30, 3, 11);

  // The top 3 of 30 distinct random values, best first, must beat every other sampled value.
  std::vector<int64_t> proposed;
  while (auto architecture = strategy->ask()) proposed.push_back(architecture->get_int("x"));
  ASSERT_EQ(proposed.size(), 5u);
  EXPECT_GT(proposed[0], proposed[1]);
  EXPECT_GT(proposed[1], proposed[2]);
  EXPECT_EQ(proposed[3], 4);
  EXPECT_EQ(proposed[4], 6);

  Rng rng(11);
  std::set<int64_t> sample;
  for (int attempt = 0; attempt < 600 && sample.size() < 30; ++attempt) {
    sample.insert(space.sample(rng).get_int("x"));
  }
  const std::vector<int64_t> top(sample.rbegin(), std::next(sample.rbegin(), 3));
  EXPECT_EQ(std::vector<int64_t>(proposed.begin(), proposed.begin() + 3), top);
}

TEST(ProxyGuidedTest, KeepMustBeBetweenOneAndCandidates) {
  const SearchSpace space = one_number_space();
  EXPECT_EQ(error_message([&] {
              make_proxy_prefilter(std::make_unique<ListStrategy>(space, std::vector<int64_t>{}),
                                   score_x, 2, 3);
            }),
            "proxy pre-filter: expected 1 <= keep <= candidates, found keep 3 and candidates 2");
}

}  // namespace
}  // namespace nascent
