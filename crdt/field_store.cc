#include "crdt/field_store.h"

#include <algorithm>

#include "dots_codec.h"
#include "encoded_join.h"
#include "wire.h"

namespace dynakv::crdt {

namespace {

constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 29;  // Redis's proto-max-bulk-len

void PutValue(std::string* dst, const std::string& v) { wire::PutBytes(dst, v); }
void PutValue(std::string* dst, double v) { wire::PutDouble(dst, v); }
bool GetValue(std::string_view* in, std::string* v) {
  std::string_view bytes;
  if (!wire::GetBytes(in, &bytes, kMaxBytes)) return false;
  v->assign(bytes);
  return true;
}
bool GetValue(std::string_view* in, double* v) { return wire::GetDouble(in, v); }
// The same reads without the copy: only the extent matters.
bool SkipValue(std::string_view* in, const std::string*) {
  std::string_view bytes;
  return wire::GetBytes(in, &bytes, kMaxBytes);
}
bool SkipValue(std::string_view* in, const double*) {
  double v;
  return wire::GetDouble(in, &v);
}

// Integer totals travel as signed varints: a negative running sum is then short, not 10 bytes.
void PutTotal(std::string* dst, std::uint64_t t) {
  wire::PutSignedVarint(dst, static_cast<std::int64_t>(t));
}
void PutTotal(std::string* dst, double t) { wire::PutDouble(dst, t); }
bool GetTotal(std::string_view* in, std::uint64_t* t) {
  std::int64_t s;
  if (!wire::GetSignedVarint(in, &s)) return false;
  *t = static_cast<std::uint64_t>(s);
  return true;
}
bool GetTotal(std::string_view* in, double* t) { return wire::GetDouble(in, t); }

// Modulo 2^64 for integers (see TextFields), IEEE addition for doubles.
std::uint64_t Plus(std::uint64_t a, std::uint64_t b) { return a + b; }
double Plus(double a, double b) { return a + b; }

Dot Carry(CausalContext* to, const CausalContext& from, Dot d) {
  return Dot{to->Intern(from.actor(d.actor)), d.counter};
}

template <typename Item>
bool HasDot(const std::vector<Item>& items, Dot d) {
  return std::any_of(items.begin(), items.end(), [&](const Item& x) { return x.dot == d; });
}

// The dotted join of one field's items: kept when both hold it, or one holds it and the other
// never saw it. `theirs` is already in this side's actor indexes.
template <typename Item, typename OtherSaw>
void MergeItems(std::vector<Item>* mine, const std::vector<Item>& theirs, OtherSaw other_saw,
                const CausalContext& my_ctx) {
  std::vector<Item> merged;
  for (const Item& x : *mine) {
    if (HasDot(theirs, x.dot) || !other_saw(x.dot)) merged.push_back(x);
  }
  for (const Item& y : theirs) {
    if (!HasDot(*mine, y.dot) && !my_ctx.Contains(y.dot)) merged.push_back(y);
  }
  *mine = std::move(merged);
}

}  // namespace

template <typename T>
FieldStore<T> FieldStore<T>::Assign(std::string_view actor, std::string_view name,
                                    std::int64_t timestamp_us, typename T::Value value) {
  FieldStore delta;
  Field& field = fields_[std::string(name)];
  for (const Register& r : field.registers) delta.ctx_.Insert(Carry(&delta.ctx_, ctx_, r.dot));
  for (const Total& t : field.totals) delta.ctx_.Insert(Carry(&delta.ctx_, ctx_, t.dot));
  const Dot dot = ctx_.Next(ctx_.Intern(actor));
  ctx_.Insert(dot);
  const Dot delta_dot = Carry(&delta.ctx_, ctx_, dot);
  delta.ctx_.Insert(delta_dot);
  delta.fields_[std::string(name)].registers.push_back(Register{delta_dot, timestamp_us, value});
  Unindex(field);
  field.registers.assign(1, Register{dot, timestamp_us, std::move(value)});
  field.totals.clear();
  index_.Put(dot, &fields_.find(name)->first);
  return delta;
}

template <typename T>
FieldStore<T> FieldStore<T>::Increment(std::string_view actor, std::string_view name,
                                       typename T::Total by) {
  FieldStore delta;
  auto field_it = fields_.try_emplace(std::string(name)).first;
  Field& field = field_it->second;
  const std::uint32_t a = ctx_.Intern(actor);
  const Dot dot = ctx_.Next(a);
  ctx_.Insert(dot);
  auto it = std::find_if(field.totals.begin(), field.totals.end(),
                         [&](const Total& t) { return t.dot.actor == a; });
  typename T::Total total = by;
  if (it != field.totals.end()) {
    // The delta covers the actor's previous dot: its new total replaces the old one everywhere.
    delta.ctx_.Insert(Carry(&delta.ctx_, ctx_, it->dot));
    index_.Erase(it->dot);
    total = Plus(it->total, by);
    *it = Total{dot, total};
  } else {
    field.totals.push_back(Total{dot, total});
  }
  index_.Put(dot, &field_it->first);
  const Dot delta_dot = Carry(&delta.ctx_, ctx_, dot);
  delta.ctx_.Insert(delta_dot);
  delta.fields_[std::string(name)].totals.push_back(Total{delta_dot, total});
  return delta;
}

template <typename T>
FieldStore<T> FieldStore<T>::Remove(std::string_view name) {
  FieldStore delta;
  auto it = fields_.find(name);
  if (it == fields_.end()) return delta;
  for (const Register& r : it->second.registers) delta.ctx_.Insert(Carry(&delta.ctx_, ctx_, r.dot));
  for (const Total& t : it->second.totals) delta.ctx_.Insert(Carry(&delta.ctx_, ctx_, t.dot));
  Unindex(it->second);
  fields_.erase(it);
  return delta;
}

template <typename T>
FieldStore<T> FieldStore<T>::Reset() {
  FieldStore delta;
  delta.ctx_ = ctx_;
  fields_.clear();
  index_.Clear();
  return delta;
}

template <typename T>
void FieldStore<T>::Unindex(const Field& field) {
  for (const Register& r : field.registers) index_.Erase(r.dot);
  for (const Total& t : field.totals) index_.Erase(t.dot);
}

template <typename T>
void FieldStore<T>::BuildIndex() {
  index_.Invalidate();
  index_.MarkValid();
  for (const auto& [name, field] : fields_) {
    for (const Register& r : field.registers) index_.Put(r.dot, &name);
    for (const Total& t : field.totals) index_.Put(t.dot, &name);
  }
}

template <typename T>
void FieldStore<T>::Join(const FieldStore& other) {
  const auto map = ctx_.MapActors(other.ctx_);
  // See ORSet::Join: a delta's small context is walked instead of every field.
  if (other.ctx_.DotCount() <= fields_.size() / 4) {
    if (!index_.valid()) BuildIndex();
    JoinSmall(other, map);
  } else {
    JoinAll(other, map);
    index_.Invalidate();
  }
  ctx_.Join(other.ctx_, map);
}

// JoinAll's rule, visiting only my dots other's context covers and other's fields.
template <typename T>
void FieldStore<T>::JoinSmall(const FieldStore& other, const std::vector<std::uint32_t>& map) {
  other.ctx_.ForEachDot([&](Dot od) {
    const Dot d{map[od.actor], od.counter};
    const std::string* name = index_.Find(d);
    if (name == nullptr) return;
    auto ot = other.fields_.find(*name);
    if (ot != other.fields_.end() &&
        (HasDot(ot->second.registers, od) || HasDot(ot->second.totals, od))) {
      return;  // both hold it
    }
    auto it = fields_.find(*name);
    std::erase_if(it->second.registers, [&](const Register& r) { return r.dot == d; });
    std::erase_if(it->second.totals, [&](const Total& t) { return t.dot == d; });
    index_.Erase(d);
    if (it->second.registers.empty() && it->second.totals.empty()) fields_.erase(it);
  });
  for (const auto& entry : other.fields_) {
    const std::string& name = entry.first;  // (a structured binding: clang 14 cannot capture it)
    const Field& theirs = entry.second;
    auto add = [&](auto item, auto member) {
      item.dot.actor = map[item.dot.actor];
      const Dot dot = item.dot;
      if (ctx_.Contains(dot)) return;  // held here already, or removed here
      auto it = fields_.try_emplace(name).first;
      (it->second.*member).push_back(std::move(item));
      index_.Put(dot, &it->first);
    };
    for (const Register& r : theirs.registers) add(r, &Field::registers);
    for (const Total& t : theirs.totals) add(t, &Field::totals);
  }
}

template <typename T>
void FieldStore<T>::JoinAll(const FieldStore& other, const std::vector<std::uint32_t>& map) {
  std::vector<std::uint32_t> inv(ctx_.actor_count(), kNoActor);
  for (std::uint32_t i = 0; i < map.size(); ++i) inv[map[i]] = i;
  auto other_saw = [&](Dot d) {
    return inv[d.actor] != kNoActor && other.ctx_.Contains(Dot{inv[d.actor], d.counter});
  };
  auto mapped = [&](const Field& f) {
    Field out = f;
    for (Register& r : out.registers) r.dot.actor = map[r.dot.actor];
    for (Total& t : out.totals) t.dot.actor = map[t.dot.actor];
    return out;
  };
  const Field none;

  auto it = fields_.begin();
  auto ot = other.fields_.begin();
  while (it != fields_.end() || ot != other.fields_.end()) {
    const bool only_mine =
        ot == other.fields_.end() || (it != fields_.end() && it->first < ot->first);
    const bool only_theirs = !only_mine && (it == fields_.end() || ot->first < it->first);
    if (only_theirs) {
      Field field;
      const Field theirs = mapped(ot->second);
      MergeItems(&field.registers, theirs.registers, other_saw, ctx_);
      MergeItems(&field.totals, theirs.totals, other_saw, ctx_);
      if (!field.registers.empty() || !field.totals.empty()) {
        fields_.emplace_hint(it, ot->first, std::move(field));
      }
      ++ot;
      continue;
    }
    const Field theirs = only_mine ? none : mapped(ot->second);
    MergeItems(&it->second.registers, theirs.registers, other_saw, ctx_);
    MergeItems(&it->second.totals, theirs.totals, other_saw, ctx_);
    const bool gone = it->second.registers.empty() && it->second.totals.empty();
    it = gone ? fields_.erase(it) : std::next(it);
    if (!only_mine) ++ot;
  }
}

template <typename T>
const typename FieldStore<T>::Field* FieldStore<T>::Find(std::string_view name) const {
  auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

template <typename T>
const typename FieldStore<T>::Register* FieldStore<T>::Winner(const Field& field) const {
  const Register* best = nullptr;
  for (const Register& r : field.registers) {
    if (best == nullptr) {
      best = &r;
      continue;
    }
    if (r.timestamp_us != best->timestamp_us) {
      if (r.timestamp_us > best->timestamp_us) best = &r;
      continue;
    }
    const std::string& ra = ctx_.actor(r.dot.actor);
    const std::string& ba = ctx_.actor(best->dot.actor);
    if (ra != ba ? ra > ba : r.dot.counter > best->dot.counter) best = &r;
  }
  return best;
}

template <typename T>
std::vector<typename T::Total> FieldStore<T>::TotalsInOrder(const Field& field) const {
  std::vector<const Total*> order;
  for (const Total& t : field.totals) order.push_back(&t);
  std::sort(order.begin(), order.end(), [&](const Total* x, const Total* y) {
    return ctx_.actor(x->dot.actor) < ctx_.actor(y->dot.actor);
  });
  std::vector<typename T::Total> out;
  for (const Total* t : order) out.push_back(t->total);
  return out;
}

// Per field: name, varint #registers, each (dot, zigzag timestamp, value), varint #totals, each
// (dot, total); registers and totals sorted by actor rank.
template <typename T>
std::string FieldStore<T>::Encode() const {
  std::string out(1, T::kTag);
  const auto rank = ctx_.Ranks();
  ctx_.EncodeTo(&out, rank);
  wire::PutVarint(&out, fields_.size());
  auto by_rank = [&](const auto& x, const auto& y) {
    return std::pair(rank[x.dot.actor], x.dot.counter) <
           std::pair(rank[y.dot.actor], y.dot.counter);
  };
  for (const auto& [name, field] : fields_) {
    wire::PutBytes(&out, name);
    std::vector<Register> registers = field.registers;
    std::sort(registers.begin(), registers.end(), by_rank);
    wire::PutVarint(&out, registers.size());
    for (const Register& r : registers) {
      dots::Put(&out, rank, r.dot);
      wire::PutSignedVarint(&out, r.timestamp_us);
      PutValue(&out, r.value);
    }
    std::vector<Total> totals = field.totals;
    std::sort(totals.begin(), totals.end(), by_rank);
    wire::PutVarint(&out, totals.size());
    for (const Total& t : totals) {
      dots::Put(&out, rank, t.dot);
      PutTotal(&out, t.total);
    }
  }
  return out;
}

template <typename T>
bool FieldStore<T>::JoinEncoded(std::string_view encoded, const FieldStore& delta, std::string* out,
                                std::size_t* size) {
  // Every item's payload encoded once; reserved up front, so the views into it stay valid.
  std::size_t items = 0;
  for (const auto& [name, field] : delta.fields_) {
    items += field.registers.size() + field.totals.size();
  }
  std::vector<std::string> payloads;
  payloads.reserve(items);
  std::vector<encoded::Entry<2>> entries;
  entries.reserve(delta.fields_.size());
  for (const auto& [name, field] : delta.fields_) {
    encoded::Entry<2>& entry = entries.emplace_back();
    entry.name = name;
    for (const Register& r : field.registers) {
      std::string& payload = payloads.emplace_back();
      wire::PutSignedVarint(&payload, r.timestamp_us);
      PutValue(&payload, r.value);
      entry.lists[0].push_back(encoded::Item{r.dot, payload});
    }
    for (const Total& t : field.totals) {
      std::string& payload = payloads.emplace_back();
      PutTotal(&payload, t.total);
      entry.lists[1].push_back(encoded::Item{t.dot, payload});
    }
  }
  auto skip = [](int list, std::string_view* in) {
    if (list == 0) {
      std::int64_t timestamp_us;
      return wire::GetSignedVarint(in, &timestamp_us) &&
             SkipValue(in, static_cast<const typename T::Value*>(nullptr));
    }
    typename T::Total total;
    return GetTotal(in, &total);
  };
  return encoded::Join<2>(T::kTag, encoded, delta.ctx_, entries, skip, out, size);
}

template <typename T>
bool FieldStore<T>::Decode(std::string_view bytes, FieldStore* store) {
  *store = FieldStore();
  std::string_view in = bytes;
  if (in.empty() || in.front() != T::kTag) return false;
  in.remove_prefix(1);
  if (!CausalContext::DecodeFrom(&in, &store->ctx_)) return false;
  std::uint64_t n;
  if (!wire::GetVarint(&in, &n) || n > in.size()) return false;
  dots::UniqueCheck unique;
  // Items in (rank, counter) order (decoded indexes are ranks).
  auto next_dot = [&](std::string_view* in, Dot* prev, bool first, Dot* d) {
    if (!dots::Get(in, store->ctx_, d)) return false;
    if (!first && !(*prev < *d)) return false;
    *prev = *d;
    unique.Add(*d);
    return true;
  };
  std::string_view prev_name;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    if (!wire::GetBytes(&in, &name, kMaxBytes)) return false;
    if (i > 0 && !(prev_name < name)) return false;
    prev_name = name;
    Field field;
    std::uint64_t count;
    if (!wire::GetVarint(&in, &count) || count > in.size()) return false;
    Dot prev;
    for (std::uint64_t j = 0; j < count; ++j) {
      Register r;
      if (!next_dot(&in, &prev, j == 0, &r.dot) || !wire::GetSignedVarint(&in, &r.timestamp_us) ||
          !GetValue(&in, &r.value)) {
        return false;
      }
      field.registers.push_back(std::move(r));
    }
    if (!wire::GetVarint(&in, &count) || count > in.size()) return false;
    for (std::uint64_t j = 0; j < count; ++j) {
      Total t;
      if (!next_dot(&in, &prev, j == 0, &t.dot) || !GetTotal(&in, &t.total)) return false;
      field.totals.push_back(t);
    }
    if (field.registers.empty() && field.totals.empty()) return false;
    store->fields_.emplace_hint(store->fields_.end(), std::string(name), std::move(field));
  }
  return in.empty() && unique.Ok();
}

template class FieldStore<TextFields>;
template class FieldStore<ScoreFields>;

}  // namespace dynakv::crdt
