// "Did you mean ...?" for misspelt words: keys, node types, node ids, settings,
// functions and names in expressions, delivery configuration. One rule for
// every front end, so YAML and `.flow` files suggest the same word.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::ir {

// Edit distance in bytes; a swap of two neighbouring characters is one edit.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when it is close enough to be a likely
// slip (a third of the word's length, at least 1, at most 3 edits, or one
// containing the other); nullopt otherwise.
std::optional<std::string> closest_name(std::string_view word,
                                        const std::vector<std::string>& candidates);

// ": did you mean 'x'?" or "" when nothing is close; ready to append to a message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// ": did you mean 'meant'?": the one wording of a suggestion, which meant_in reads.
std::string did_you_mean_text(std::string_view meant);

// The word a message's "did you mean 'x'?" names, or "" (the editor's plain
// words and the front end that explains a missing field by a misspelt key
// read it back from the message).
std::string meant_in(std::string_view message);

}  // namespace trellis::ir
