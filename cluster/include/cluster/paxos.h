// Per-key Paxos for SERIAL / LOCAL_SERIAL (linearizable compare-and-set, as Cassandra's
// lightweight transactions): the ballots, what an acceptor keeps per key, and the bus payloads
// of the three phases (PAXOS_PREPARE, PAXOS_PROPOSE, PAXOS_COMMIT; bus_protocol.h).
//
// A round of a coordinator on key k, among k's replicas (the participants):
//   prepare(b)  -> each acceptor promises b if b is above every ballot it promised, and answers
//                  with the proposal it accepted and has not seen committed (if any), the ballot
//                  of the latest commit it applied, and its current copy of k (the read).
//   propose(b,v)-> each acceptor accepts v unless it promised a higher ballot since.
//   commit(b,v) -> each replica merges v into its copy of k (an ordinary replica write) and
//                  forgets the accepted proposal.
// A proposal is the key's whole new SiblingSet (the coordinator's command run over what a
// majority held), or a no-op: a round that changes nothing (a read, a failed SET NX) still gets
// a proposal accepted, so an older proposal that a minority accepted can never complete after it.
//
// Keys with a hash tag share ONE Paxos instance per tag (GroupInstance): a transaction or script
// over several keys of the tag (and a single-key SERIAL command on one of them) prepares the tag's
// instance with the list of keys it reads (PAXOS_PREPARE_GROUP: the promise carries a copy of
// each), and its proposal is a group: every changed key's new set, committed on each replica as
// ONE atomic group of its engine. So commands on one tag at SERIAL are linearizable together, and
// a replica never holds half of a transaction.
//
// Every decoder reads bytes from the network or the disk: it checks bounds and rejects anything
// the encoder could not have produced.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::cluster::paxos {

// Unique and totally ordered: hybrid-clock microseconds, then the coordinator's node id. The
// zero ballot ({0, ""}) is below every real one.
struct Ballot {
  std::int64_t micros = 0;
  std::string node;

  bool IsZero() const { return micros == 0 && node.empty(); }
  std::string ToString() const;  // "micros:node", for logs and tests
};
bool operator<(const Ballot& a, const Ballot& b);
bool operator==(const Ballot& a, const Ballot& b);
inline bool operator!=(const Ballot& a, const Ballot& b) { return !(a == b); }
inline bool operator>(const Ballot& a, const Ballot& b) { return b < a; }
inline bool operator<=(const Ballot& a, const Ballot& b) { return !(b < a); }
inline bool operator>=(const Ballot& a, const Ballot& b) { return !(a < b); }

struct Proposal {
  Ballot ballot;
  bool noop = false;        // changes no value (a read's or a failed condition's seal)
  std::string encoded_set;  // the key's new SiblingSet (SiblingSet::Encode); empty when noop
  // encoded_set is an EncodeGroup of several keys' new sets (a tag's instance), not one set.
  bool group = false;
};

// The instance name of the keys with hash tag `tag` (cluster/hash_tag.h): "{tag}". No key
// without a tag has that form, so it never meets the instance of an untagged key.
std::string GroupInstance(std::string_view tag);
// The instance `key`'s SERIAL rounds use: its tag's when it has one, else the key itself.
std::string InstanceOf(std::string_view key);

// (key, encoded SiblingSet) pairs: a group proposal's sets, and a group promise's copies (an
// empty encoding: the acceptor holds no copy of that key). Keys are distinct and non-empty.
struct KeyCopy {
  std::string key;
  std::string encoded;
};
std::string EncodeGroup(const std::vector<KeyCopy>& copies);
bool DecodeGroup(std::string_view bytes, std::vector<KeyCopy>* copies);

// What an acceptor keeps per key (durable before it answers).
struct AcceptorState {
  Ballot promised;  // the highest ballot promised (or accepted)
  // The latest proposal accepted, or committed here (a commit keeps its proposal: Cassandra's
  // most recent commit), whichever has the higher ballot. In progress while its ballot is above
  // `committed`.
  bool has_accepted = false;
  Proposal accepted;
  Ballot committed;  // the ballot of the latest commit applied here

  bool InProgress() const { return has_accepted && committed < accepted.ballot; }
};

// The acceptor's rules, pure (PaxosAcceptor applies them to its store). Each returns whether
// the state changed (and so must be written before answering).
// Prepare: promises `ballot` when it is above every ballot promised so far.
bool ApplyPrepare(AcceptorState* state, const Ballot& ballot, bool* promised);
// Propose: accepts when the ballot is not below the promise (the promise rises to it).
bool ApplyPropose(AcceptorState* state, const Proposal& proposal, bool* accepted);
// Commit: the latest commit rises to the proposal's ballot, and the proposal replaces an
// accepted one of a lower or equal ballot (so the state keeps the most recent commit, which a
// later round re-sends to replicas that missed it).
bool ApplyCommit(AcceptorState* state, const Proposal& proposal);

struct Promise {
  bool promised = false;
  Ballot promised_ballot;     // the request's ballot when promised, else the higher one promised
  bool has_accepted = false;  // AcceptorState's: in progress, or the most recent commit
  Proposal accepted;
  Ballot committed;
  std::string current;  // the acceptor's encoded copy of the key ("" when none)
};

struct AcceptReply {
  bool accepted = false;
  Ballot promised_ballot;  // when refused: the higher ballot promised
};

void EncodeBallot(std::string* dst, const Ballot& ballot);
bool DecodeBallot(std::string_view* input, Ballot* ballot);

std::string EncodeState(const AcceptorState& state);
bool DecodeState(std::string_view bytes, AcceptorState* state);

std::string EncodePrepare(std::string_view key, const Ballot& ballot);
bool DecodePrepare(std::string_view payload, std::string_view* key, Ballot* ballot);
// PAXOS_PREPARE_GROUP: the instance, the ballot and the keys whose copies the promise carries
// (its `current` is then an EncodeGroup of them, in this order).
std::string EncodePrepareGroup(std::string_view instance, const Ballot& ballot,
                               const std::vector<std::string>& keys);
bool DecodePrepareGroup(std::string_view payload, std::string_view* instance, Ballot* ballot,
                        std::vector<std::string_view>* keys);
std::string EncodePromise(const Promise& promise);
bool DecodePromise(std::string_view payload, Promise* promise);

// PAXOS_PROPOSE and PAXOS_COMMIT carry the same fields.
std::string EncodeProposal(std::string_view key, const Proposal& proposal);
bool DecodeProposal(std::string_view payload, std::string_view* key, Proposal* proposal);
std::string EncodeAcceptReply(const AcceptReply& reply);
bool DecodeAcceptReply(std::string_view payload, AcceptReply* reply);

}  // namespace dynakv::cluster::paxos
