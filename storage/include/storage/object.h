// Values that are not plain bytes (collections: hashes, and later lists, sets, ...), held by the
// engine without knowing what they are, as RocksDB holds merge operands it never interprets.
//
// Contract between the engine and the library that defines the types (types/):
// - A string value is a plain Put of bytes and costs exactly what it did before objects existed:
//   no tag byte, no virtual call. Everything else is a ValueObject, marked as such in the memtable,
//   the commit log and the segments (that mark is the type tag; the object's own serialized form
//   starts with a byte naming its type, which only the ObjectCodec reads).
// - In memory an object is live and mutable: a write to one element changes it in place
//   (Engine::Mutate) and logs only an operation record, never the whole value.
// - On disk (segments, and a whole-value Put in the log) an object is its Serialize() form,
//   LZ4-compressed like any value. A checkpoint serializes each dirty object on its background
//   thread, so a collection of a million members never stops the event loop; meanwhile the owner
//   thread may read the object but changes it only once its serialization is done (the engine
//   sees to that), or, for an object with snapshots (StartSnapshot), the part a change touches.
//   So an object's const member functions must be safe to run on two threads at once: no caches
//   filled or state moved by a read.
// - Recovery rebuilds objects with ObjectCodec::Decode and replays operation records onto them
//   with ObjectCodec::Apply, the very function live writes use: the two cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dynakv::storage {

// The InvalidArgument message of Engine::Mutate (and of keyspaces like it) when the key holds a
// string: callers turn it into their WRONGTYPE error without a lookup of their own.
inline constexpr std::string_view kHoldsString = "the key holds a string";

// A serialization of an object started on the owner thread (ValueObject::StartSnapshot) and run
// on another, a checkpoint's background thread, while the owner keeps changing the object.
class ObjectSnapshot {
 public:
  virtual ~ObjectSnapshot() = default;
  // Appends the object's Serialize() form as it was when the snapshot started. Called once.
  virtual void Serialize(std::string* out) = 0;
};

class ValueObject {
 public:
  virtual ~ValueObject() = default;
  // Bytes of memory it holds (maxmemory and used_memory count it). The engine reads it before and
  // after every mutation, so it must be O(1): keep it as a running count.
  virtual std::size_t MemoryUsage() const = 0;
  // The whole value, in a form ObjectCodec::Decode turns back into an equal object.
  virtual void Serialize(std::string* out) const = 0;
  // An empty collection: the engine deletes the key (Redis never keeps empty collections).
  virtual bool Empty() const = 0;

  // A checkpoint's serialization that may run while the object changes. nullptr (the default):
  // the object has none, and the engine has it serialized whole before the next change (a
  // write then waits for the whole collection). Otherwise, until EndSnapshot(), every change of
  // the object first settles the part of the snapshot it touches (serializes it as it was, or
  // waits while the other thread does), so a write waits for a small part of a large
  // collection. The engine keeps the snapshot alive until it has called EndSnapshot(), which it
  // does on the owner thread once no other thread uses the snapshot.
  virtual std::unique_ptr<ObjectSnapshot> StartSnapshot() { return nullptr; }
  virtual void EndSnapshot() {}
};

// What the engine calls to (re)build objects and to apply logged operations. One codec serves
// every object type; it is given to the engine in Options and must outlive it.
class ObjectCodec {
 public:
  virtual ~ObjectCodec() = default;
  // An object from its Serialize() form; nullptr when the bytes are not one (corruption).
  virtual std::unique_ptr<ValueObject> Decode(std::string_view serialized) const = 0;
  // Applies operation `op` (produced by the types library, opaque to the engine) to `object` in
  // place, or, when `object` is null (the key does not exist), to a new object it puts in
  // *created. Returns false, changing nothing, when `op` is malformed or does not fit the
  // object's type. *result receives the operation's own answer (for example how many elements
  // it added), for the caller to reply with.
  virtual bool Apply(ValueObject* object, std::string_view op, std::int64_t* result,
                     std::unique_ptr<ValueObject>* created) const = 0;
  // Whether `op`, applied with answer `result`, left the value exactly as it was (an SADD of a
  // member already there, an SREM of one that was not). Such a write is not logged and leaves
  // the object clean: the log holds what made the value so, and a checkpoint has nothing new to
  // write (Redis does not propagate these either). false when unsure.
  virtual bool ChangedNothing(std::string_view /*op*/, std::int64_t /*result*/) const {
    return false;
  }
};

}  // namespace dynakv::storage
