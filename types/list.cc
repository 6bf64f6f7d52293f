#include "types/list.h"

#include <lz4.h>

#include <algorithm>

#include "types/ops.h"

namespace dynakv::types {

namespace {

// Redis's SIZE_SAFETY_LIMIT: a node bounded by entries still stops at 8 KB.
constexpr std::size_t kSafetyBytes = 8192;
constexpr std::size_t kNodeOverhead = sizeof(std::string) + 2 * sizeof(std::size_t);
// Redis's MIN_COMPRESS_BYTES and MIN_COMPRESS_IMPROVE: smaller nodes, and compression that saves
// less, are not worth it.
constexpr std::size_t kMinCompressBytes = 48;
constexpr std::size_t kMinCompressImprove = 8;

// An entry: varint length | bytes | the varint of (length varint + bytes) written backwards, so
// a walk from the end reads it first byte first.
std::size_t VarintSize(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::size_t EntrySize(std::size_t len) {
  const std::size_t front = VarintSize(len) + len;
  return front + VarintSize(front);
}

void AppendEntry(std::string* dst, std::string_view element) {
  const std::size_t start = dst->size();
  PutVarint(dst, element.size());
  dst->append(element);
  std::string back;
  PutVarint(&back, dst->size() - start);
  dst->append(back.rbegin(), back.rend());
}

std::string EncodeEntry(std::string_view element) {
  std::string out;
  out.reserve(EntrySize(element.size()));
  AppendEntry(&out, element);
  return out;
}

// The entry at `pos` (its start): its element and the offset of the next entry.
std::string_view EntryAt(std::string_view buf, std::size_t pos, std::size_t* next) {
  std::string_view in(buf.data() + pos, buf.size() - pos);
  std::uint64_t len = 0;
  GetVarint(&in, &len);
  const std::string_view element = in.substr(0, len);
  const std::size_t front = static_cast<std::size_t>(element.data() + len - (buf.data() + pos));
  *next = pos + front + VarintSize(front);
  return element;
}

// The start of the entry that ends at `end`.
std::size_t EntryBefore(std::string_view buf, std::size_t end) {
  std::uint64_t front = 0;
  unsigned shift = 0;
  std::size_t pos = end;
  while (pos > 0) {
    const auto byte = static_cast<unsigned char>(buf[--pos]);
    front |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) == 0) break;
  }
  return pos - front;
}

std::vector<std::string> Elements(std::string_view buf) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < buf.size();) out.emplace_back(EntryAt(buf, pos, &pos));
  return out;
}

}  // namespace

ListFill ListFillOf(long long fill) {
  if (fill > 0) return {static_cast<std::size_t>(std::min<long long>(fill, 32767)), kSafetyBytes};
  static constexpr std::size_t kBytes[] = {4096, 8192, 16384, 32768, 65536};
  const long long level = std::clamp<long long>(-fill, 1, 5);
  return {0, kBytes[level - 1]};
}

std::string_view List::Bytes(const Node& node, std::string* scratch) {
  if (!node.compressed) return node.buf;
  scratch->resize(node.raw_size);
  // The block was made here and never changes while compressed: it decompresses.
  LZ4_decompress_safe(node.buf.data(), scratch->data(), static_cast<int>(node.buf.size()),
                      static_cast<int>(node.raw_size));
  return *scratch;
}

std::string& List::Raw(std::size_t at) {
  Node& node = nodes_[at];
  node.tried = false;  // about to change: worth another try once interior again
  if (!node.compressed) return node.buf;
  Touch(at);
  std::string raw;
  Bytes(node, &raw);
  Account(static_cast<long long>(raw.size()) - static_cast<long long>(node.buf.size()));
  node.buf = std::move(raw);
  node.compressed = false;
  return node.buf;
}

void List::Compress(std::size_t at) {
  Node& node = nodes_[at];
  if (node.compressed || node.tried || node.buf.size() < kMinCompressBytes) return;
  node.tried = true;
  const int bound = LZ4_compressBound(static_cast<int>(node.buf.size()));
  std::string packed(static_cast<std::size_t>(bound), '\0');
  const int n = LZ4_compress_default(node.buf.data(), packed.data(),
                                     static_cast<int>(node.buf.size()), bound);
  if (n <= 0 || static_cast<std::size_t>(n) + kMinCompressImprove > node.buf.size()) return;
  Touch(at);
  packed.resize(static_cast<std::size_t>(n));
  packed.shrink_to_fit();
  Account(static_cast<long long>(packed.size()) - static_cast<long long>(node.buf.size()));
  node.raw_size = static_cast<std::uint32_t>(node.buf.size());
  node.buf = std::move(packed);
  node.compressed = true;
}

void List::Settle() {
  if (depth_ == 0) return;
  const std::size_t n = nodes_.size();
  // The `depth` nodes at each end stay raw (pushes and pops touch them); with more nodes than
  // that, the first interior node at each end is compressed (those further in already are).
  for (std::size_t i = 0; i < depth_ && i < n; ++i) {
    Raw(i);
    Raw(n - 1 - i);
  }
  if (n > 2 * depth_) {
    Compress(depth_);
    Compress(n - 1 - depth_);
  }
}

bool List::Interior(std::size_t at) const {
  return depth_ != 0 && at >= depth_ && at + depth_ < nodes_.size();
}

bool List::Fits(const Node& node, std::size_t element_bytes, const TypeLimits& limits) const {
  const ListFill fill = ListFillOf(limits.list_max_listpack_size);
  if (fill.max_entries != 0 && node.count >= fill.max_entries) return false;
  // An empty node takes any element (a huge one gets a node of its own).
  const std::size_t used = node.compressed ? node.raw_size : node.buf.size();
  return node.count == 0 || used + EntrySize(element_bytes) <= fill.max_bytes;
}

void List::AppendSerialized(const Node& node, std::string* out, std::string* scratch) {
  const std::string_view buf = Bytes(node, scratch);
  for (std::size_t pos = 0; pos < buf.size();) {
    const std::string_view element = EntryAt(buf, pos, &pos);
    PutVarint(out, element.size());
    out->append(element);
  }
}

void List::Serialize(std::string* out) const {
  out->push_back(static_cast<char>(ValueType::kList));
  PutVarint(out, size_);
  std::string scratch;
  for (const Node& node : nodes_) AppendSerialized(node, out, &scratch);
}

std::unique_ptr<List> List::Decode(std::string_view in, const TypeLimits& limits) {
  if (in.empty() || static_cast<ValueType>(in.front()) != ValueType::kList) return nullptr;
  in.remove_prefix(1);
  std::uint64_t count;
  if (!GetVarint(&in, &count) || count > in.size()) return nullptr;
  auto list = std::make_unique<List>();
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view element;
    if (!GetLengthPrefixed(&in, &element)) return nullptr;
    list->PushBack(element, limits);
  }
  if (!in.empty()) return nullptr;
  return list;
}

void List::PushFront(std::string_view element, const TypeLimits& limits) {
  depth_ = limits.list_compress_depth;
  if (nodes_.empty() || !Fits(nodes_.front(), element.size(), limits)) {
    nodes_.emplace_front();
    Account(kNodeOverhead);
    ShiftSnapshot(1);
  }
  Touch(0);
  Node& node = nodes_.front();
  const std::string entry = EncodeEntry(element);
  Raw(0).insert(0, entry);
  ++node.count;
  ++size_;
  Account(static_cast<long long>(entry.size()));
  Settle();
}

void List::PushBack(std::string_view element, const TypeLimits& limits) {
  depth_ = limits.list_compress_depth;
  if (nodes_.empty() || !Fits(nodes_.back(), element.size(), limits)) {
    nodes_.emplace_back();
    Account(kNodeOverhead);
  }
  Touch(nodes_.size() - 1);
  Node& node = nodes_.back();
  std::string& buf = Raw(nodes_.size() - 1);
  const std::size_t before = buf.size();
  AppendEntry(&buf, element);
  ++node.count;
  ++size_;
  Account(static_cast<long long>(buf.size() - before));
  Settle();
}

std::string List::PopFront() {
  Touch(0);
  Node& node = nodes_.front();
  std::string& buf = Raw(0);
  std::size_t next = 0;
  std::string element(EntryAt(buf, 0, &next));
  buf.erase(0, next);
  --node.count;
  --size_;
  Account(-static_cast<long long>(next));
  if (node.count == 0) {
    nodes_.pop_front();
    Account(-static_cast<long long>(kNodeOverhead));
    ShiftSnapshot(-1);
  }
  Settle();
  return element;
}

std::string List::PopBack() {
  Touch(nodes_.size() - 1);
  Node& node = nodes_.back();
  std::string& buf = Raw(nodes_.size() - 1);
  const std::size_t start = EntryBefore(buf, buf.size());
  std::size_t next = 0;
  std::string element(EntryAt(buf, start, &next));
  Account(-static_cast<long long>(buf.size() - start));
  buf.resize(start);
  --node.count;
  --size_;
  if (node.count == 0) {
    nodes_.pop_back();
    Account(-static_cast<long long>(kNodeOverhead));
  }
  Settle();
  return element;
}

std::size_t List::Locate(std::size_t index, std::size_t* within) const {
  if (index >= size_ / 2) {                 // from the tail
    std::size_t remaining = size_ - index;  // >= 1
    for (std::size_t n = nodes_.size(); n-- > 0;) {
      if (remaining <= nodes_[n].count) {
        *within = nodes_[n].count - remaining;
        return n;
      }
      remaining -= nodes_[n].count;
    }
  }
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    if (index < nodes_[n].count) {
      *within = index;
      return n;
    }
    index -= nodes_[n].count;
  }
  *within = 0;
  return nodes_.size();
}

std::string List::At(std::size_t index) const {
  std::size_t within = 0;
  const Node& node = nodes_[Locate(index, &within)];
  std::string scratch;
  const std::string_view buf = Bytes(node, &scratch);
  std::size_t next = 0;
  if (within >= node.count / 2) {
    std::size_t pos = buf.size();
    for (std::size_t i = node.count; i > within; --i) pos = EntryBefore(buf, pos);
    return std::string(EntryAt(buf, pos, &next));
  }
  std::size_t pos = 0;
  for (std::size_t i = 0; i < within; ++i) EntryAt(buf, pos, &pos);
  return std::string(EntryAt(buf, pos, &next));
}

void List::Rebuild(std::size_t at, const std::vector<std::string>& elements,
                   const TypeLimits& limits) {
  depth_ = limits.list_compress_depth;
  Touch(at);
  Node& old = nodes_[at];
  Account(-static_cast<long long>(old.buf.size() + kNodeOverhead));
  size_ -= old.count;
  std::deque<Node> fresh;
  for (const std::string& element : elements) {
    if (fresh.empty() || !Fits(fresh.back(), element.size(), limits)) {
      fresh.emplace_back();
      Account(kNodeOverhead);
    }
    AppendEntry(&fresh.back().buf, element);
    ++fresh.back().count;
    Account(static_cast<long long>(EntrySize(element.size())));
  }
  size_ += elements.size();
  if (fresh.size() != 1) TouchAll();  // the deque moves nodes: a snapshot's runs go first
  if (fresh.empty()) {
    nodes_.erase(nodes_.begin() + static_cast<long>(at));
    Settle();
    return;
  }
  nodes_[at] = std::move(fresh[0]);
  for (std::size_t i = 1; i < fresh.size(); ++i) {
    nodes_.insert(nodes_.begin() + static_cast<long>(at + i), std::move(fresh[i]));
  }
  for (std::size_t i = at; i < at + fresh.size(); ++i) {
    if (Interior(i)) Compress(i);
  }
}

void List::Set(std::size_t index, std::string_view element, const TypeLimits& limits) {
  std::size_t within = 0;
  const std::size_t at = Locate(index, &within);
  std::string scratch;
  std::vector<std::string> elements = Elements(Bytes(nodes_[at], &scratch));
  elements[within] = std::string(element);
  Rebuild(at, elements, limits);
  Settle();
}

bool List::Insert(std::string_view pivot, std::string_view element, bool before,
                  const TypeLimits& limits) {
  std::string scratch;
  for (std::size_t at = 0; at < nodes_.size(); ++at) {
    const std::string_view buf = Bytes(nodes_[at], &scratch);
    std::size_t i = 0;
    for (std::size_t pos = 0; pos < buf.size(); ++i) {
      if (EntryAt(buf, pos, &pos) != pivot) continue;
      std::vector<std::string> elements = Elements(buf);
      elements.insert(elements.begin() + static_cast<long>(before ? i : i + 1),
                      std::string(element));
      Rebuild(at, elements, limits);
      Settle();
      return true;
    }
  }
  return false;
}

std::size_t List::Remove(long long count, std::string_view element, const TypeLimits& limits) {
  std::size_t removed = 0;
  const std::size_t want =
      count == 0 ? size_ : static_cast<std::size_t>(count < 0 ? -(count + 1) : count - 1) + 1;
  const bool from_tail = count < 0;
  // From the head: `at` moves forward past the nodes a rebuild made; from the tail: backward,
  // where the nodes before `at` are untouched by its rebuild.
  long long at = from_tail ? static_cast<long long>(nodes_.size()) - 1 : 0;
  std::string scratch;
  while (at >= 0 && at < static_cast<long long>(nodes_.size()) && removed < want) {
    const auto index = static_cast<std::size_t>(at);
    std::vector<std::string> elements = Elements(Bytes(nodes_[index], &scratch));
    std::vector<std::string> kept;
    kept.reserve(elements.size());
    std::size_t here = 0;
    auto visit = [&](std::string& e) {
      if (removed + here < want && e == element) {
        ++here;
      } else {
        kept.push_back(std::move(e));
      }
    };
    if (from_tail) {
      for (auto it = elements.rbegin(); it != elements.rend(); ++it) visit(*it);
      std::reverse(kept.begin(), kept.end());
    } else {
      for (std::string& e : elements) visit(e);
    }
    if (here == 0) {
      at += from_tail ? -1 : 1;
      continue;
    }
    removed += here;
    const std::size_t before = nodes_.size();
    Rebuild(index, kept, limits);
    const auto made = static_cast<long long>(nodes_.size() + 1 - before);
    at = from_tail ? at - 1 : at + made;
  }
  if (removed > 0) Settle();
  return removed;
}

bool List::Consistent() const {
  std::size_t total = 0;
  std::size_t bytes = 0;
  std::string scratch;
  for (const Node& node : nodes_) {
    if (node.count == 0 || Elements(Bytes(node, &scratch)).size() != node.count) return false;
    total += node.count;
    bytes += node.buf.size() + kNodeOverhead;
  }
  return total == size_ && bytes == bytes_;
}

void List::ForRange(std::size_t start, std::size_t n, const Visitor& fn) const {
  if (start >= size_ || n == 0) return;
  std::size_t within = 0;
  std::size_t at = Locate(start, &within);
  std::size_t pos = 0;
  std::string scratch;
  for (std::size_t i = 0; i < within; ++i) EntryAt(Bytes(nodes_[at], &scratch), pos, &pos);
  for (; at < nodes_.size(); ++at, pos = 0) {
    const std::string_view buf = Bytes(nodes_[at], &scratch);
    while (pos < buf.size()) {
      if (n-- == 0 || !fn(EntryAt(buf, pos, &pos))) return;
    }
  }
}

void List::ForEachReverse(const Visitor& fn) const {
  std::string scratch;
  for (std::size_t at = nodes_.size(); at-- > 0;) {
    const std::string_view buf = Bytes(nodes_[at], &scratch);
    for (std::size_t end = buf.size(); end > 0;) {
      const std::size_t start = EntryBefore(buf, end);
      std::size_t next = 0;
      if (!fn(EntryAt(buf, start, &next))) return;
      end = start;
    }
  }
}

}  // namespace dynakv::types
