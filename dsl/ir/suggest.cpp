#include "dsl/ir/suggest.h"

#include <algorithm>

namespace trellis::ir {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: like Levenshtein, plus swapping two neighbours
  // counts as one edit (`emial` -> `email`), the commonest typing slip.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> closest_name(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  if (word.empty()) return std::nullopt;
  size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    if (candidate == word) continue;
    size_t distance = edit_distance(word, candidate);
    // `coupon` for `give_coupon` (or `nudge_sms` for `nudge`): one name inside
    // the other is a likely slip too.
    bool fragment = (word.size() >= 3 && candidate.find(word) != std::string::npos) ||
                    (candidate.size() >= 3 && word.find(candidate) != std::string_view::npos);
    if (fragment) distance = std::min(distance, limit);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

namespace {
constexpr std::string_view kMean = "did you mean '";
}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best = closest_name(word, candidates);
  return best ? did_you_mean_text(*best) : std::string();
}

std::string did_you_mean_text(std::string_view meant) {
  return ": " + std::string(kMean) + std::string(meant) + "'?";
}

std::string meant_in(std::string_view message) {
  size_t begin = message.find(kMean);
  if (begin == std::string_view::npos) return {};
  begin += kMean.size();
  size_t end = message.find('\'', begin);
  return end == std::string_view::npos ? std::string()
                                       : std::string(message.substr(begin, end - begin));
}

}  // namespace trellis::ir
