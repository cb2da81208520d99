#include "dsl/expr/value.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace trellis::expr {

// ---------------------------------------------------------------------------
// Interned names. A name is stored once; a PathId is (name id << 2) | root.

namespace {

constexpr uint32_t kRootBits = 2;
constexpr size_t kChunkSize = 1024;
constexpr size_t kMaxChunks = 4096;  // four million distinct names

// Names live in fixed chunks that never move, so path_name() reads without a
// lock: an id is only ever handed out after its name is stored.
class NameTable {
 public:
  uint32_t intern(std::string_view name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = ids_.find(std::string(name));
    if (found != ids_.end()) return found->second;
    uint32_t id = count_.load(std::memory_order_relaxed);
    size_t chunk = id / kChunkSize;
    if (chunk >= kMaxChunks) std::abort();  // a runaway producer of names, not a user error
    if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
      chunks_[chunk].store(new std::string[kChunkSize], std::memory_order_release);
    }
    chunks_[chunk].load(std::memory_order_relaxed)[id % kChunkSize] = std::string(name);
    ids_.emplace(std::string(name), id);
    count_.store(id + 1, std::memory_order_release);
    return id;
  }

  // Nullopt-like: returns false when the name was never interned.
  bool find(std::string_view name, uint32_t& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = ids_.find(std::string(name));
    if (found == ids_.end()) return false;
    id = found->second;
    return true;
  }

  std::string_view name(uint32_t id) const {
    if (id >= count_.load(std::memory_order_acquire)) return {};
    return chunks_[id / kChunkSize].load(std::memory_order_acquire)[id % kChunkSize];
  }

  uint32_t count() const { return count_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, uint32_t> ids_;  // guarded by mutex_
  std::array<std::atomic<std::string*>, kMaxChunks> chunks_{};
  std::atomic<uint32_t> count_{0};
};

NameTable& names() {
  static NameTable* table = new NameTable();  // never destroyed: ids outlive statics
  return *table;
}

uint32_t name_of(PathId id) { return id >> kRootBits; }

}  // namespace

PathId intern_path(ir::PathRoot root, std::string_view dotted) {
  return (names().intern(dotted) << kRootBits) | static_cast<uint32_t>(root);
}

PathId intern_path(const ir::Path& path) {
  std::string dotted;
  for (const std::string& segment : path.segments) {
    if (!dotted.empty()) dotted += '.';
    dotted += segment;
  }
  return intern_path(path.root, dotted);
}

std::string_view path_name(PathId id) { return names().name(name_of(id)); }

ir::PathRoot path_root(PathId id) {
  return static_cast<ir::PathRoot>(id & ((1u << kRootBits) - 1));
}

PathId path_under_root(PathId id, ir::PathRoot root) {
  return (name_of(id) << kRootBits) | static_cast<uint32_t>(root);
}

size_t interned_path_count() { return size_t{names().count()} << kRootBits; }

// ---------------------------------------------------------------------------
// Record

// An owned value, while a record is being rebuilt.
struct Record::Entry {
  uint32_t name = 0;
  ValueView value;  // strings and items point into `text` / `items` below
  std::string text;
  std::vector<ValueView> items;
  std::vector<std::string> item_texts;

  static Entry of(uint32_t name, const ValueView& value) {
    Entry entry;
    entry.name = name;
    entry.value = value;
    if (value.type == Type::kString) entry.text = std::string(value.string());
    if (value.type == Type::kList) {
      for (uint32_t i = 0; i < value.size; ++i) {
        ValueView item = value.items[i];
        // Lists hold scalars: a nested list becomes null rather than dangling.
        if (item.type == Type::kList) item = ValueView::null();
        entry.items.push_back(item);
        entry.item_texts.emplace_back(item.type == Type::kString ? item.string() : "");
      }
    }
    return entry;
  }
};

namespace {

struct Header {
  uint32_t count;
  uint32_t bytes;
};

size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

size_t keys_offset() { return sizeof(Header); }
size_t values_offset(uint32_t count) { return align8(sizeof(Header) + count * sizeof(uint32_t)); }

const Header* header_of(const uint64_t* data) { return reinterpret_cast<const Header*>(data); }

const uint32_t* keys_of(const uint64_t* data) {
  return reinterpret_cast<const uint32_t*>(reinterpret_cast<const char*>(data) + keys_offset());
}

const ValueView* values_of(const uint64_t* data) {
  return reinterpret_cast<const ValueView*>(reinterpret_cast<const char*>(data) +
                                            values_offset(header_of(data)->count));
}

// Moves a pointer that pointed into [from, from + bytes) to the same place in `to`.
template <typename T>
T relocate(T pointer, const char* from, size_t bytes, char* to) {
  const char* p = reinterpret_cast<const char*>(pointer);
  if (p < from || p >= from + bytes) return pointer;
  return reinterpret_cast<T>(to + (p - from));
}

}  // namespace

Record::Record() = default;
Record::Record(Record&&) noexcept = default;
Record& Record::operator=(Record&&) noexcept = default;
Record::~Record() = default;

Record::Record(const Record& other) {
  if (!other.data_) return;
  uint32_t bytes = header_of(other.data_.get())->bytes;
  data_.reset(new uint64_t[bytes / 8]);
  std::memcpy(data_.get(), other.data_.get(), bytes);
  const char* from = reinterpret_cast<const char*>(other.data_.get());
  char* to = reinterpret_cast<char*>(data_.get());
  uint32_t count = header_of(data_.get())->count;
  auto* values = const_cast<ValueView*>(values_of(data_.get()));
  for (uint32_t i = 0; i < count; ++i) {
    ValueView& value = values[i];
    if (value.type == Type::kString) value.chars = relocate(value.chars, from, bytes, to);
    if (value.type != Type::kList) continue;
    value.items = relocate(value.items, from, bytes, to);
    auto* items = const_cast<ValueView*>(value.items);
    for (uint32_t k = 0; k < value.size; ++k) {
      if (items[k].type == Type::kString)
        items[k].chars = relocate(items[k].chars, from, bytes, to);
    }
  }
}

Record& Record::operator=(const Record& other) {
  if (this != &other) *this = Record(other);
  return *this;
}

std::vector<Record::Entry> Record::decode() const {
  std::vector<Entry> entries;
  if (!data_) return entries;
  uint32_t count = header_of(data_.get())->count;
  const uint32_t* keys = keys_of(data_.get());
  const ValueView* values = values_of(data_.get());
  entries.reserve(count + 1);
  for (uint32_t i = 0; i < count; ++i) entries.push_back(Entry::of(keys[i], values[i]));
  return entries;
}

Record Record::encode(std::vector<Entry>& entries) {
  // Sort by name; among equal names the last one set wins.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.name < b.name; });
  std::vector<Entry*> unique;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].name == entries[i].name) continue;
    unique.push_back(&entries[i]);
  }
  Record record;
  if (unique.empty()) return record;
  uint32_t count = static_cast<uint32_t>(unique.size());
  size_t bytes = values_offset(count) + count * sizeof(ValueView);
  for (const Entry* entry : unique) {
    bytes += align8(entry->text.size());
    bytes += entry->items.size() * sizeof(ValueView);
    for (const std::string& text : entry->item_texts) bytes += align8(text.size());
  }
  bytes = align8(bytes);
  record.data_.reset(new uint64_t[bytes / 8]());
  char* base = reinterpret_cast<char*>(record.data_.get());
  *reinterpret_cast<Header*>(base) = Header{count, static_cast<uint32_t>(bytes)};
  auto* keys = reinterpret_cast<uint32_t*>(base + keys_offset());
  auto* values = reinterpret_cast<ValueView*>(base + values_offset(count));
  char* cursor = base + values_offset(count) + count * sizeof(ValueView);
  auto copy_text = [&cursor](const std::string& text) {
    const char* at = cursor;
    std::memcpy(cursor, text.data(), text.size());
    cursor += align8(text.size());
    return at;
  };
  for (uint32_t i = 0; i < count; ++i) {
    const Entry& entry = *unique[i];
    keys[i] = entry.name;
    values[i] = entry.value;
    if (entry.value.type == Type::kString) values[i].chars = copy_text(entry.text);
    if (entry.value.type != Type::kList) continue;
    auto* items = reinterpret_cast<ValueView*>(cursor);
    cursor += entry.items.size() * sizeof(ValueView);
    for (size_t k = 0; k < entry.items.size(); ++k) {
      items[k] = entry.items[k];
      if (items[k].type == Type::kString) items[k].chars = copy_text(entry.item_texts[k]);
    }
    values[i].items = items;
  }
  return record;
}

Record Record::from(const std::vector<std::pair<std::string, ValueView>>& entries) {
  std::vector<Entry> owned;
  owned.reserve(entries.size());
  for (const auto& [name, value] : entries) {
    owned.push_back(Entry::of(names().intern(name), value));
  }
  return encode(owned);
}

void Record::set(std::string_view name, const ValueView& value) {
  std::vector<Entry> entries = decode();
  entries.push_back(Entry::of(names().intern(name), value));
  *this = encode(entries);
}

void Record::set_null(std::string_view name) { set(name, ValueView::null()); }
void Record::set(std::string_view name, bool value) { set(name, ValueView::of(value)); }
void Record::set(std::string_view name, double value) { set(name, ValueView::of(value)); }
void Record::set(std::string_view name, std::string_view value) { set(name, ValueView::of(value)); }

void Record::set_list(std::string_view name, const std::vector<ValueView>& elements) {
  set(name, ValueView::list(elements.data(), static_cast<uint32_t>(elements.size())));
}

void Record::erase(std::string_view name) {
  uint32_t id = 0;
  if (!names().find(name, id)) return;
  std::vector<Entry> entries = decode();
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [id](const Entry& entry) { return entry.name == id; }),
                entries.end());
  *this = encode(entries);
}

void Record::merge(const Record& other) {
  std::vector<Entry> entries = decode();
  for (Entry& entry : other.decode()) entries.push_back(std::move(entry));
  *this = encode(entries);
}

ValueView Record::get(std::string_view name) const {
  uint32_t id = 0;
  if (!names().find(name, id)) return ValueView::null();
  return get(PathId{id << kRootBits});
}

bool Record::has(std::string_view name) const { return !get(name).is_null(); }

size_t Record::size() const { return data_ ? header_of(data_.get())->count : 0; }

std::vector<std::pair<std::string, ValueView>> Record::entries() const {
  std::vector<std::pair<std::string, ValueView>> out;
  if (!data_) return out;
  uint32_t count = header_of(data_.get())->count;
  const uint32_t* keys = keys_of(data_.get());
  const ValueView* values = values_of(data_.get());
  for (uint32_t i = 0; i < count; ++i) out.emplace_back(names().name(keys[i]), values[i]);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// ---------------------------------------------------------------------------
// RecordScope

const Record* RecordScope::record(ir::PathRoot root) const {
  switch (root) {
    case ir::PathRoot::kUser:
      return user_;
    case ir::PathRoot::kEvent:
      return event_;
    case ir::PathRoot::kLastEvent:
      return last_event_;
    case ir::PathRoot::kCoupon:
      return nullptr;
  }
  return nullptr;
}

ValueView RecordScope::lookup(PathId path) const {
  const Record* record = nullptr;
  switch (path_root(path)) {
    case ir::PathRoot::kUser:
      record = user_;
      break;
    case ir::PathRoot::kEvent:
      record = event_;
      break;
    case ir::PathRoot::kLastEvent:
      record = last_event_;
      break;
    case ir::PathRoot::kCoupon:
      return path_name(path) == "code" && !coupon_code_.empty() ? ValueView::of(coupon_code_)
                                                                : ValueView::null();
  }
  return record != nullptr ? record->get(path) : ValueView::null();
}

}  // namespace trellis::expr
