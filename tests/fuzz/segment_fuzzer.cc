// Fuzzes the segment reader (storage/segment_reader.h: footer, index, bloom filter, blocks,
// records) that opens every segment file at startup. Each input is written to a scratch file.
// Input: [mode byte] then, by mode % 3:
//   0: the file's bytes as they are (mostly stopped by the checksums);
//   1: blocks, index hashes, bloom filter and footer counts, which the harness lays out with
//      correct offsets and checksums, so the reader's parsing behind the checksums is reached;
//   2: records, which the harness sorts and writes with the real SegmentWriter.
// Invariants: a laid-out file (1) and a written one (2) open; iterating and looking up never
// reads out of bounds; a written segment reads back exactly the records written, each found by
// Get and by the bloom filter, with the footer's counts right.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <string_view>
#include <vector>

#include "coding.h"
#include "crc.h"
#include "fuzz_util.h"
#include "segment_format.h"
#include "segment_reader.h"
#include "segment_writer.h"

namespace {

using namespace dynakv::storage;
using dynakv::fuzz::InputReader;

void AppendChecked(std::string* file, std::string_view part) {
  file->append(part);
  PutFixed32(file, Checksum32(part));
}

std::string LayOut(InputReader* in) {
  std::string file, index;
  const std::size_t blocks = in->Byte() % 8;
  for (std::size_t i = 0; i < blocks; ++i) {
    const std::uint64_t first_hash = in->Fixed64();
    const std::string_view block = in->Bytes(in->Byte() * 2);
    PutFixed64(&index, first_hash);
    PutFixed64(&index, file.size());
    PutFixed32(&index, static_cast<std::uint32_t>(block.size()));
    AppendChecked(&file, block);
  }
  std::string footer;
  PutFixed64(&footer, file.size());
  PutFixed64(&footer, index.size());
  AppendChecked(&file, index);
  const std::string_view bloom = in->ShortString();
  PutFixed64(&footer, file.size());
  PutFixed64(&footer, bloom.size());
  AppendChecked(&file, bloom);
  PutFixed64(&footer, in->Fixed64());  // record count
  PutFixed64(&footer, in->Fixed64());  // expiring count
  PutFixed64(&footer, in->Fixed64());  // earliest expiry
  PutFixed64(&footer, kSegmentMagic);
  AppendChecked(&file, footer);
  return file;
}

// Reads everything there is to read, checking only what must hold for any file.
void Explore(const std::shared_ptr<SegmentReader>& reader, std::uint64_t probe) {
  SegmentIterator it(reader);
  std::vector<std::tuple<std::uint64_t, std::string, std::uint32_t>> seen;
  for (it.SeekToFirst(); it.Valid() && seen.size() < 100000; it.Next()) {
    seen.emplace_back(it.record().hash, std::string(it.record().key), it.record().ns);
  }
  std::string buf;
  for (const auto& [hash, key, ns] : seen) {
    SegmentRecord rec;
    bool found = false;
    if (reader->Get(hash, key, ns, &rec, &buf, &found).ok() && found) {
      FUZZ_CHECK(rec.hash == hash && rec.key == key && rec.ns == ns);
    }
  }
  if (reader->block_count() > 0) FUZZ_CHECK(reader->FirstBlockFor(probe) < reader->block_count());
  it.Seek(probe);
  if (it.Valid()) FUZZ_CHECK(it.record().hash >= probe);
  reader->MayContain(probe);
}

struct Rec {
  std::uint64_t hash;
  std::uint8_t flags;
  std::int64_t expire;
  std::string key, stored;
  std::uint32_t raw_len;
  std::uint32_t ns;  // a numbered database's namespace: the same key may be in several
};

void RoundTrip(InputReader* in, const std::string& path) {
  std::vector<Rec> recs;
  const std::size_t count = in->Byte() % 64;
  for (std::size_t i = 0; i < count && !in->empty(); ++i) {
    Rec r;
    const std::uint8_t shape = in->Byte();
    r.hash = (shape & 1) ? in->Fixed64() : in->Byte() % 4;  // small hashes collide
    r.flags = (shape >> 1) & 3;
    r.expire = (shape & 8) ? static_cast<std::int64_t>(in->Fixed64() >> 1) : 0;
    r.key = in->ShortString(32);
    r.stored = in->Bytes(in->Byte() * ((shape & 16) ? 64 : 1));
    r.raw_len = (r.flags & SegmentRecord::kCompressed) ? in->Byte() : r.stored.size();
    r.ns = (shape & 32) ? in->Byte() % 3 + ((shape & 64) ? (1u << 20) : 0) : 0;
    recs.push_back(std::move(r));
  }
  std::sort(recs.begin(), recs.end(),
            [](const Rec& a, const Rec& b) {
              return RecordLess(a.hash, a.key, a.ns, b.hash, b.key, b.ns);
            });
  recs.erase(std::unique(recs.begin(), recs.end(),
                         [](const Rec& a, const Rec& b) {
                           return a.hash == b.hash && a.key == b.key && a.ns == b.ns;
                         }),
             recs.end());
  std::uint64_t expiring = 0;
  std::int64_t earliest = 0;
  {
    std::unique_ptr<SegmentWriter> writer;
    FUZZ_CHECK(SegmentWriter::Create(path, &writer).ok());
    for (const Rec& r : recs) {
      SegmentRecord rec;
      rec.hash = r.hash;
      rec.flags = r.flags;
      rec.expire_at_ms = r.expire;
      rec.key = r.key;
      rec.stored = r.stored;
      rec.raw_len = r.raw_len;
      rec.ns = r.ns;
      FUZZ_CHECK(writer->Add(rec).ok());
      if (!rec.tombstone() && r.expire != 0) {
        earliest = expiring == 0 ? r.expire : std::min(earliest, r.expire);
        ++expiring;
      }
    }
    FUZZ_CHECK(writer->Finish().ok());
  }
  std::shared_ptr<SegmentReader> reader;
  FUZZ_CHECK(SegmentReader::Open(path, 1, &reader).ok());
  FUZZ_CHECK(reader->record_count() == recs.size());
  FUZZ_CHECK(reader->expiring_records() == expiring);
  if (expiring > 0) FUZZ_CHECK(reader->earliest_expiry_ms() == earliest);
  SegmentIterator it(reader);
  it.SeekToFirst();
  std::string buf;
  for (const Rec& r : recs) {
    FUZZ_CHECK(it.Valid());
    const SegmentRecord& got = it.record();
    FUZZ_CHECK(got.hash == r.hash && got.flags == r.flags && got.expire_at_ms == r.expire &&
               got.key == r.key && got.stored == r.stored && got.raw_len == r.raw_len &&
               got.ns == r.ns);
    FUZZ_CHECK(reader->MayContain(r.hash));
    SegmentRecord rec;
    bool found = false;
    FUZZ_CHECK(reader->Get(r.hash, r.key, r.ns, &rec, &buf, &found).ok() && found);
    FUZZ_CHECK(rec.stored == r.stored && rec.flags == r.flags && rec.ns == r.ns);
    it.Next();
  }
  FUZZ_CHECK(!it.Valid() && it.status().ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dynakv::fuzz::ScratchFile scratch;
  InputReader in(data, size);
  const std::uint8_t mode = in.Byte() % 3;
  if (mode == 2) {
    RoundTrip(&in, scratch.path());
    return 0;
  }
  const std::uint64_t probe = in.Fixed64();
  const std::string file = mode == 1 ? LayOut(&in) : std::string(in.Rest());
  std::shared_ptr<SegmentReader> reader;
  const bool opened = SegmentReader::Open(scratch.Write(file), 1, &reader).ok();
  if (mode == 1) FUZZ_CHECK(opened);
  if (opened) Explore(reader, probe);
  return 0;
}
