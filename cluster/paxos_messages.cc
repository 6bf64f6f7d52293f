#include <tuple>

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
  dst->push_back(proposal.noop ? 1 : 0);
  coding::PutLengthPrefixed(dst, proposal.noop ? std::string_view() : proposal.encoded_set);
}

// A real proposal has a real ballot, and a set unless it is a no-op (which has none).
bool DecodeProposalFrom(std::string_view* input, Proposal* proposal) {
  std::string_view set;
  if (!DecodeBallot(input, &proposal->ballot) || proposal->ballot.IsZero() ||
      !GetFlag(input, &proposal->noop) || !coding::GetLengthPrefixed(input, &set)) {
    return false;
  }
  if (proposal->noop != set.empty()) return false;
  proposal->encoded_set.assign(set);
  return true;
}

bool DecodeKey(std::string_view* input, std::string_view* key) {
  return coding::GetLengthPrefixed(input, key);
}

}  // namespace

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

bool ApplyCommit(AcceptorState* state, const Ballot& ballot) {
  bool changed = false;
  if (state->committed < ballot) {
    state->committed = ballot;
    changed = true;
  }
  if (state->has_accepted && state->accepted.ballot <= ballot) {
    state->has_accepted = false;
    state->accepted = Proposal();
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
