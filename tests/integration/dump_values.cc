#include "dump_values.h"

#include <algorithm>
#include <utility>

namespace dynakv::itest {

std::string DumpValueGenerator::Integer() {
  static const char* const kEdges[] = {"0",
                                       "-1",
                                       "127",
                                       "128",
                                       "-4096",
                                       "4095",
                                       "32767",
                                       "-32769",
                                       "8388607",
                                       "2147483647",
                                       "2147483648",
                                       "-9223372036854775808",
                                       "9223372036854775807",
                                       "9999"};
  if (Pick(4) == 0) return kEdges[Pick(std::size(kEdges))];
  const auto v = static_cast<std::int64_t>(rng_()) >> Pick(64);
  return std::to_string(v);
}

std::string DumpValueGenerator::Element(bool large) {
  switch (Pick(5)) {
    case 0:
      return Integer();
    case 1: {  // binary
      std::string s(Pick(large ? 300 : 40), '\0');
      for (char& c : s) c = static_cast<char>(rng_());
      return s;
    }
    case 2:  // compressible, sometimes past a listpack's value limit
      return std::string(1 + Pick(large ? 200 : 30), static_cast<char>('a' + Pick(26)));
    default: {
      std::string s = "e";
      const std::size_t n = Pick(large ? 80 : 12);
      for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + Pick(26)));
      return s;
    }
  }
}

std::string DumpValueGenerator::Score() {
  switch (Pick(6)) {
    case 0:
      return Integer().substr(0, 15);  // an integer score, exact in a double
    case 1:
      return Pick(2) == 0 ? "inf" : "-inf";
    case 2:
      return std::to_string(static_cast<int>(Pick(2000)) - 1000) + "." + std::to_string(Pick(1000));
    case 3:
      return "1e" + std::to_string(static_cast<int>(Pick(40)) - 20);
    default:
      return std::to_string(static_cast<int>(Pick(100)));
  }
}

std::vector<std::vector<std::string>> DumpValueGenerator::Batched(
    const std::string& command, const std::string& key, const std::vector<std::string>& args,
    std::size_t step) {
  std::vector<std::vector<std::string>> out;
  for (std::size_t i = 0; i < args.size(); i += step) {
    std::vector<std::string> argv = {command, key};
    argv.insert(argv.end(), args.begin() + static_cast<std::ptrdiff_t>(i),
                args.begin() + static_cast<std::ptrdiff_t>(std::min(args.size(), i + step)));
    out.push_back(std::move(argv));
  }
  return out;
}

std::vector<std::vector<std::string>> DumpValueGenerator::Build(const std::string& key) {
  std::vector<std::vector<std::string>> out = {{"DEL", key}};
  const bool large = Pick(4) == 0;
  auto count = [&] { return large ? 150 + Pick(2500) : 1 + Pick(40); };
  std::vector<std::string> args;
  switch (Pick(5)) {
    case 0: {  // string
      std::string value;
      switch (Pick(4)) {
        case 0:
          value = Integer();
          break;
        case 1:
          value = Element(large);
          break;
        case 2:  // compressible: LZF
          for (std::size_t n = 20 + Pick(large ? 60000 : 200); value.size() < n;) {
            value += "chunk-" + std::to_string(Pick(8)) + "|";
          }
          break;
        default:
          value.resize(Pick(large ? 20000 : 100));
          for (char& c : value) c = static_cast<char>(rng_());
      }
      out.push_back({"SET", key, value});
      break;
    }
    case 1: {  // hash
      const std::size_t n = count();
      for (std::size_t i = 0; i < n; ++i) {
        args.push_back(Element(large) + "#" + std::to_string(i));
        args.push_back(Element(large && Pick(3) == 0));
      }
      for (auto& argv : Batched("HSET", key, args, 200)) out.push_back(std::move(argv));
      break;
    }
    case 2: {  // list
      const std::size_t n = large ? 500 + Pick(6000) : 1 + Pick(60);
      for (std::size_t i = 0; i < n; ++i) args.push_back(Element(large && Pick(4) == 0));
      for (auto& argv : Batched("RPUSH", key, args, 300)) out.push_back(std::move(argv));
      break;
    }
    case 3: {  // set: integers (intset) or not
      const bool integers = Pick(2) == 0;
      const std::size_t n = large ? 300 + Pick(700) : 1 + Pick(40);
      for (std::size_t i = 0; i < n; ++i) {
        args.push_back(integers ? Integer() : Element(large) + "#" + std::to_string(i));
      }
      for (auto& argv : Batched("SADD", key, args, 200)) out.push_back(std::move(argv));
      break;
    }
    default: {  // sorted set
      const std::size_t n = count();
      for (std::size_t i = 0; i < n; ++i) {
        args.push_back(Score());
        args.push_back(Element(large && Pick(3) == 0) + "#" + std::to_string(i));
      }
      for (auto& argv : Batched("ZADD", key, args, 200)) out.push_back(std::move(argv));
    }
  }
  if (Pick(4) == 0) out.push_back({"PEXPIRE", key, std::to_string(100000 + Pick(1000000))});
  return out;
}

std::vector<std::string> KeyContents(Client& client, const std::string& key) {
  const std::string type = client.Command({"TYPE", key}).str;
  std::vector<std::string> out = {type};
  auto strings = [&](const Reply& reply) {
    std::vector<std::string> items;
    for (const Reply& e : reply.elements) items.push_back(e.str);
    return items;
  };
  std::vector<std::string> items;
  if (type == "string") {
    items = {client.Command({"GET", key}).str};
  } else if (type == "list") {
    items = strings(client.Command({"LRANGE", key, "0", "-1"}));
  } else if (type == "set") {
    items = strings(client.Command({"SMEMBERS", key}));
    std::sort(items.begin(), items.end());
  } else if (type == "hash") {
    const std::vector<std::string> flat = strings(client.Command({"HGETALL", key}));
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
      items.push_back(flat[i] + '\0' + flat[i + 1]);
    std::sort(items.begin(), items.end());
  } else if (type == "zset") {
    items = strings(client.Command({"ZRANGE", key, "0", "-1", "WITHSCORES"}));
  }
  out.insert(out.end(), items.begin(), items.end());
  return out;
}

}  // namespace dynakv::itest
