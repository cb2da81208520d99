// Evaluates the segment of SPEC §1 over 1M generated profiles, compiled
// (expr::Program over expr::Record) and as a hand-written C++ loop over plain
// structs holding the same data, and prints evaluations per second for both.
//
//   build/bench/bench_expr [profiles] [passes]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "dsl/expr/program.h"
#include "dsl/parse.h"

namespace {

constexpr const char* kSegment =
    "user.age > 30 and \"education\" in user.interests and not user.paid";

// The same profile as a plain struct, as a hand-written engine would keep it.
struct Profile {
  double age = 0;
  std::vector<std::string> interests;
  bool paid = false;
  std::string first_name;
  std::string email;
  std::string city;
};

std::vector<Profile> generate(size_t count) {
  static const char* kTopics[] = {"education", "tech", "sports", "travel", "cooking", "music"};
  static const char* kNames[] = {"Ana", "Bo", "Cy", "Dee", "Eli", "Fay"};
  static const char* kCities[] = {"Oslo", "Lima", "Pune", "Graz"};
  std::mt19937_64 random(42);
  std::vector<Profile> profiles(count);
  for (size_t i = 0; i < count; ++i) {
    Profile& p = profiles[i];
    p.age = 18 + static_cast<double>(random() % 53);
    size_t topics = random() % 4;
    for (size_t t = 0; t < topics; ++t) p.interests.emplace_back(kTopics[random() % 6]);
    p.paid = random() % 2 == 0;
    p.first_name = kNames[random() % 6];
    p.email = "user" + std::to_string(i) + "@example.com";
    p.city = kCities[random() % 4];
  }
  return profiles;
}

std::vector<trellis::expr::Record> to_records(const std::vector<Profile>& profiles) {
  using trellis::expr::ValueView;
  std::vector<trellis::expr::Record> records;
  records.reserve(profiles.size());
  std::vector<ValueView> interests;
  for (const Profile& p : profiles) {
    interests.clear();
    for (const std::string& topic : p.interests) interests.push_back(ValueView::of(topic));
    records.push_back(trellis::expr::Record::from({
        {"age", ValueView::of(p.age)},
        {"interests", ValueView::list(interests.data(), static_cast<uint32_t>(interests.size()))},
        {"paid", ValueView::of(p.paid)},
        {"first_name", ValueView::of(p.first_name)},
        {"email", ValueView::of(p.email)},
        {"address.city", ValueView::of(p.city)},
    }));
  }
  return records;
}

template <typename Body>
double best_seconds(int passes, size_t& matches, Body body) {
  double best = 1e300;
  for (int pass = 0; pass < passes; ++pass) {
    auto start = std::chrono::steady_clock::now();
    matches = body();
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000000;
  int passes = argc > 2 ? std::atoi(argv[2]) : 5;

  std::vector<Profile> profiles = generate(count);
  std::vector<trellis::expr::Record> records = to_records(profiles);

  trellis::ir::Diagnostics diagnostics;
  trellis::ir::Expression parsed =
      trellis::dsl::parse_expression(kSegment, {1, 1, 0, 0}, "bench", diagnostics);
  if (!parsed.tree) {
    std::fprintf(stderr, "the segment does not parse\n");
    return 1;
  }
  trellis::expr::Program program = trellis::expr::Program::compile(*parsed.tree);

  size_t hand_matches = 0;
  double hand = best_seconds(passes, hand_matches, [&] {
    size_t matches = 0;
    for (const Profile& p : profiles) {
      matches += p.age > 30 &&
                 std::find(p.interests.begin(), p.interests.end(), "education") !=
                     p.interests.end() &&
                 !p.paid;
    }
    return matches;
  });

  size_t compiled_matches = 0;
  double compiled = best_seconds(passes, compiled_matches, [&] {
    size_t matches = 0;
    trellis::expr::RecordScope scope(nullptr);
    for (const trellis::expr::Record& record : records) {
      scope.set_user(&record);
      matches += program.test(scope);
    }
    return matches;
  });

  if (hand_matches != compiled_matches) {
    std::fprintf(stderr, "mismatch: hand loop %zu, compiled %zu\n", hand_matches,
                 compiled_matches);
    return 1;
  }
  double hand_rate = static_cast<double>(count) / hand;
  double compiled_rate = static_cast<double>(count) / compiled;
  std::printf("segment: %s\n", kSegment);
  std::printf("profiles: %zu, matches: %zu, best of %d passes\n", count, compiled_matches, passes);
  std::printf("hand-written loop: %8.1f M evaluations/s\n", hand_rate / 1e6);
  std::printf("compiled program:  %8.1f M evaluations/s\n", compiled_rate / 1e6);
  std::printf("ratio (hand / compiled): %.2fx\n", hand_rate / compiled_rate);
  return 0;
}
