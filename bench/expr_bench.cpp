// Evaluates the cart reminder's segment (docs/flows.md) over 1M generated profiles, compiled
// (expr::Program over expr::Record) and as a hand-written C++ loop over plain
// structs holding the same data, and prints evaluations per second for both.
//
//   build/bench/bench_expr [profiles] [passes]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
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

// CPU time of this thread: on a shared machine, time spent preempted by other
// processes is not ours to count (wall time is printed too).
double thread_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Timing {
  double cpu = 1e300;   // best pass, thread CPU seconds
  double wall = 1e300;  // best pass, wall seconds
};

template <typename Body>
Timing best_of(int passes, size_t& matches, Body body) {
  Timing best;
  for (int pass = 0; pass < passes; ++pass) {
    auto wall_start = std::chrono::steady_clock::now();
    double cpu_start = thread_seconds();
    matches = body();
    double cpu = thread_seconds() - cpu_start;
    std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
    best.cpu = std::min(best.cpu, cpu);
    best.wall = std::min(best.wall, wall.count());
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
  Timing hand = best_of(passes, hand_matches, [&] {
    size_t matches = 0;
    for (const Profile& p : profiles) {
      matches +=
          p.age > 30 &&
          std::find(p.interests.begin(), p.interests.end(), "education") != p.interests.end() &&
          !p.paid;
    }
    return matches;
  });

  size_t compiled_matches = 0;
  Timing compiled = best_of(passes, compiled_matches, [&] {
    size_t matches = 0;
    trellis::expr::RecordScope scope(nullptr);
    for (const trellis::expr::Record& record : records) {
      scope.set_user(&record);
      matches += program.test(scope);
    }
    return matches;
  });

  if (hand_matches != compiled_matches) {
    std::fprintf(stderr, "mismatch: hand loop %zu, compiled %zu\n", hand_matches, compiled_matches);
    return 1;
  }
  double n = static_cast<double>(count);
  std::printf("segment: %s\n", kSegment);
  std::printf("profiles: %zu, matches: %zu, best of %d passes, one thread\n", count,
              compiled_matches, passes);
  std::printf("                   M evaluations/s (CPU time)   (wall time)\n");
  std::printf("hand-written loop: %8.1f %26.1f\n", n / hand.cpu / 1e6, n / hand.wall / 1e6);
  std::printf("compiled program:  %8.1f %26.1f\n", n / compiled.cpu / 1e6, n / compiled.wall / 1e6);
  std::printf("ratio (hand / compiled, CPU time): %.2fx\n", compiled.cpu / hand.cpu);
  return 0;
}
