#include "crdt/or_sorted_set.h"

#include <algorithm>
#include <cmath>

namespace dynakv::crdt {

ORSortedSet ORSortedSet::Add(std::string_view actor, std::string_view member,
                             std::int64_t timestamp_us, double score) {
  ORSortedSet delta;
  if (std::isnan(score)) return delta;
  delta.store_ = store_.Assign(actor, member, timestamp_us, score);
  return delta;
}

double ORSortedSet::View(const FieldStore<ScoreFields>::Field& field) const {
  const auto* reg = store_.Winner(field);
  double score = reg != nullptr ? reg->value : 0.0;
  for (double t : store_.TotalsInOrder(field)) score += t;
  return std::isnan(score) ? 0.0 : score;
}

bool ORSortedSet::IncrBy(std::string_view actor, std::string_view member, double by, double* result,
                         ORSortedSet* delta) {
  if (std::isnan(by)) return false;
  double current = 0.0;
  double own = 0.0;  // this actor's total, which must not turn NaN either
  if (const auto* f = store_.Find(member)) {
    current = View(*f);
    const std::uint32_t a = store_.context().Find(actor);
    for (const auto& t : f->totals) {
      if (t.dot.actor == a) own = t.total;
    }
  }
  if (std::isnan(current + by) || std::isnan(own + by)) return false;
  delta->store_ = store_.Increment(actor, member, by);
  *result = View(*store_.Find(member));
  return true;
}

ORSortedSet ORSortedSet::Remove(std::string_view member) {
  ORSortedSet delta;
  delta.store_ = store_.Remove(member);
  return delta;
}

ORSortedSet ORSortedSet::Reset() {
  ORSortedSet delta;
  delta.store_ = store_.Reset();
  return delta;
}

std::optional<double> ORSortedSet::Score(std::string_view member) const {
  const auto* f = store_.Find(member);
  if (f == nullptr) return std::nullopt;
  return View(*f);
}

std::vector<std::pair<std::string, double>> ORSortedSet::Range() const {
  std::vector<std::pair<std::string, double>> out;
  out.reserve(store_.fields().size());
  for (const auto& [name, field] : store_.fields()) out.emplace_back(name, View(field));
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& x, const auto& y) { return x.second < y.second; });
  return out;
}

}  // namespace dynakv::crdt
