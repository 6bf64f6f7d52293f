#include <tuple>

#include "cluster/hash_tag.h"
#include "cluster/paxos.h"
#include "coding.h"

namespace dynakv::cluster::paxos {

namespace {

constexpr std::uint8_t kStateFormat = 1;

bool GetByte(std::string_view* input, std::uint8_t* value) {
  if (input->empty()) return false;
  *value = static_cast<std::uint8_t>((*input)[0]);
  input->remove_prefix(1);
  return true;
}

bool GetFlag(std::string_view* input, bool* flag) {
  std::uint8_t byte = 0;
  if (!GetByte(input, &byte) || byte > 1) return false;
  *flag = byte == 1;
  return true;
}

void EncodeProposalTo(std::string* dst, const Proposal& proposal) {
  EncodeBallot(dst, proposal.ballot);
  dst->push_back(proposal.noop ? 1 : proposal.group ? 2 : 0);
  coding::PutLengthPrefixed(dst, proposal.noop ? std::string_view() : proposal.encoded_set);
}

// A real proposal has a real ballot, and a set unless it is a no-op (which has none).
bool DecodeProposalFrom(std::string_view* input, Proposal* proposal) {
  std::string_view set;
  std::uint8_t kind = 0;  // 0: one key's set, 1: no-op, 2: a group
  if (!DecodeBallot(input, &proposal->ballot) || proposal->ballot.IsZero() ||
      !GetByte(input, &kind) || kind > 2 || !coding::GetLengthPrefixed(input, &set)) {
    return false;
  }
  proposal->noop = kind == 1;
  proposal->group = kind == 2;
  if (proposal->noop != set.empty()) return false;
  proposal->encoded_set.assign(set);
  return true;
}

bool DecodeKey(std::string_view* input, std::string_view* key) {
  return coding::GetLengthPrefixed(input, key);
}

}  // namespace

std::string GroupInstance(std::string_view tag) {
  std::string instance;
  instance.reserve(tag.size() + 2);
  instance.push_back('{');
  instance.append(tag);
  instance.push_back('}');
  return instance;
}

std::string InstanceOf(std::string_view key) {
  const std::string_view tag = HashTag(key);
  return tag.size() == key.size() ? std::string(key) : GroupInstance(tag);
}

std::string EncodeGroup(const std::vector<KeyCopy>& copies) {
  std::string out;
  coding::PutVarint64(&out, copies.size());
  for (const KeyCopy& copy : copies) {
    coding::PutLengthPrefixed(&out, copy.key);
    coding::PutLengthPrefixed(&out, copy.encoded);
  }
  return out;
}

bool DecodeGroup(std::string_view bytes, std::vector<KeyCopy>* copies) {
  std::uint64_t count = 0;
  // Each pair takes at least 3 bytes (two lengths and a key byte).
  if (!coding::GetVarint64(&bytes, &count) || count > bytes.size() / 3) return false;
  std::vector<KeyCopy> decoded;
  decoded.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view key, encoded;
    if (!coding::GetLengthPrefixed(&bytes, &key) || key.empty() ||
        !coding::GetLengthPrefixed(&bytes, &encoded)) {
      return false;
    }
    for (const KeyCopy& earlier : decoded) {
      if (earlier.key == key) return false;
    }
    decoded.push_back(KeyCopy{std::string(key), std::string(encoded)});
  }
  if (!bytes.empty()) return false;
  *copies = std::move(decoded);
  return true;
}

std::string Ballot::ToString() const { return std::to_string(micros) + ":" + node; }

bool operator<(const Ballot& a, const Ballot& b) {
  return std::tie(a.micros, a.node) < std::tie(b.micros, b.node);
}

bool operator==(const Ballot& a, const Ballot& b) {
  return a.micros == b.micros && a.node == b.node;
}

bool ApplyPrepare(AcceptorState* state, const Ballot& ballot, bool* promised) {
  *promised = state->promised < ballot;
  if (!*promised) return false;
  state->promised = ballot;
  return true;
}

bool ApplyPropose(AcceptorState* state, const Proposal& proposal, bool* accepted) {
  *accepted = state->promised <= proposal.ballot;
  if (!*accepted) return false;
  state->promised = proposal.ballot;
  state->has_accepted = true;
  state->accepted = proposal;
  return true;
}

bool ApplyCommit(AcceptorState* state, const Proposal& proposal) {
  bool changed = false;
  if (state->committed < proposal.ballot) {
    state->committed = proposal.ballot;
    changed = true;
  }
  if (!state->has_accepted || state->accepted.ballot < proposal.ballot) {
    state->has_accepted = true;
    state->accepted = proposal;
    changed = true;
  }
  return changed;
}

void EncodeBallot(std::string* dst, const Ballot& ballot) {
  coding::PutVarsint64(dst, ballot.micros);
  coding::PutLengthPrefixed(dst, ballot.node);
}

bool DecodeBallot(std::string_view* input, Ballot* ballot) {
  std::string_view node;
  if (!coding::GetVarsint64(input, &ballot->micros) || !coding::GetLengthPrefixed(input, &node)) {
    return false;
  }
  // Either the zero ballot or a positive time with a node: nothing in between.
  if (ballot->micros < 0 || (ballot->micros == 0) != node.empty()) return false;
  ballot->node.assign(node);
  return true;
}

std::string EncodeState(const AcceptorState& state) {
  std::string out;
  out.push_back(static_cast<char>(kStateFormat));
  EncodeBallot(&out, state.promised);
  out.push_back(state.has_accepted ? 1 : 0);
  if (state.has_accepted) EncodeProposalTo(&out, state.accepted);
  EncodeBallot(&out, state.committed);
  return out;
}

bool DecodeState(std::string_view bytes, AcceptorState* state) {
  std::uint8_t format = 0;
  AcceptorState decoded;
  if (!GetByte(&bytes, &format) || format != kStateFormat ||
      !DecodeBallot(&bytes, &decoded.promised) || !GetFlag(&bytes, &decoded.has_accepted)) {
    return false;
  }
  if (decoded.has_accepted && !DecodeProposalFrom(&bytes, &decoded.accepted)) return false;
  if (!DecodeBallot(&bytes, &decoded.committed) || !bytes.empty()) return false;
  *state = std::move(decoded);
  return true;
}

std::string EncodePrepare(std::string_view key, const Ballot& ballot) {
  std::string out;
  coding::PutLengthPrefixed(&out, key);
  EncodeBallot(&out, ballot);
  return out;
}

bool DecodePrepare(std::string_view payload, std::string_view* key, Ballot* ballot) {
  return DecodeKey(&payload, key) && DecodeBallot(&payload, ballot) && !ballot->IsZero() &&
         payload.empty();
}

std::string EncodePrepareGroup(std::string_view instance, const Ballot& ballot,
                               const std::vector<std::string>& keys) {
  std::string out;
  coding::PutLengthPrefixed(&out, instance);
  EncodeBallot(&out, ballot);
  coding::PutVarint64(&out, keys.size());
  for (const std::string& key : keys) coding::PutLengthPrefixed(&out, key);
  return out;
}

bool DecodePrepareGroup(std::string_view payload, std::string_view* instance, Ballot* ballot,
                        std::vector<std::string_view>* keys) {
  std::uint64_t count = 0;
  if (!DecodeKey(&payload, instance) || instance->empty() || !DecodeBallot(&payload, ballot) ||
      ballot->IsZero() || !coding::GetVarint64(&payload, &count) || count == 0 ||
      count > payload.size()) {
    return false;
  }
  keys->clear();
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view key;
    if (!coding::GetLengthPrefixed(&payload, &key) || key.empty()) return false;
    keys->push_back(key);
  }
  return payload.empty();
}

std::string EncodePromise(const Promise& promise) {
  std::string out;
  out.push_back(promise.promised ? 1 : 0);
  EncodeBallot(&out, promise.promised_ballot);
  out.push_back(promise.has_accepted ? 1 : 0);
  if (promise.has_accepted) EncodeProposalTo(&out, promise.accepted);
  EncodeBallot(&out, promise.committed);
  coding::PutLengthPrefixed(&out, promise.current);
  return out;
}

bool DecodePromise(std::string_view payload, Promise* promise) {
  Promise decoded;
  std::string_view current;
  if (!GetFlag(&payload, &decoded.promised) || !DecodeBallot(&payload, &decoded.promised_ballot) ||
      !GetFlag(&payload, &decoded.has_accepted)) {
    return false;
  }
  if (decoded.has_accepted && !DecodeProposalFrom(&payload, &decoded.accepted)) return false;
  if (!DecodeBallot(&payload, &decoded.committed) ||
      !coding::GetLengthPrefixed(&payload, &current) || !payload.empty()) {
    return false;
  }
  decoded.current.assign(current);
  *promise = std::move(decoded);
  return true;
}

std::string EncodeProposal(std::string_view key, const Proposal& proposal) {
  std::string out;
  coding::PutLengthPrefixed(&out, key);
  EncodeProposalTo(&out, proposal);
  return out;
}

bool DecodeProposal(std::string_view payload, std::string_view* key, Proposal* proposal) {
  return DecodeKey(&payload, key) && DecodeProposalFrom(&payload, proposal) && payload.empty();
}

std::string EncodeAcceptReply(const AcceptReply& reply) {
  std::string out;
  out.push_back(reply.accepted ? 1 : 0);
  EncodeBallot(&out, reply.promised_ballot);
  return out;
}

bool DecodeAcceptReply(std::string_view payload, AcceptReply* reply) {
  AcceptReply decoded;
  if (!GetFlag(&payload, &decoded.accepted) || !DecodeBallot(&payload, &decoded.promised_ballot) ||
      !payload.empty()) {
    return false;
  }
  *reply = std::move(decoded);
  return true;
}

}  // namespace dynakv::cluster::paxos
