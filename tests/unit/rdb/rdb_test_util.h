// Test vectors taken from redis-server 7.0.15 (`DUMP key`, hex), and hex helpers.
#pragma once

#include <random>
#include <string>
#include <string_view>

namespace dynakv::rdb {

// SET s_int 12345
inline constexpr std::string_view kRedisDumpInt = "00c139300a009d94ea2793fc08b9";
// 300 random characters drawn from "abcde", LZF-compressed by Redis.
inline constexpr std::string_view kRedisDumpBigString =
    "00c340e7412c0562656163616420000262616420070465616463624012016161200a04626461656220140462636262"
    "642026066561626361636540104005200f20220364626365801b026564632043202006656564626265622011203e00"
    "65201e00642013203e600f20612016016564202c016361202a201d2057401a0061204720002041206620740063201"
    "600634007202a026461614006201820110265646120ae205f4083200d20b120664037006220cd026163632018006"
    "3204e2044401c201d2037200a208d407d202820aaa05c401a202d401c207b006220882078209420002087803e202"
    "1204200620a00533bf45e3023350b";
// HSET h f1 v1 f2 2
inline constexpr std::string_view kRedisDumpHash =
    "10151500000004008266310382763103826632030201ff0a005c5ea813feec1ff5";
// SADD si 1 2 3 -70000
inline constexpr std::string_view kRedisDumpIntset =
    "0b18040000000400000090eefeff0100000002000000030000000a00a8b63c622cbf2c9c";
// ZADD z 1 a 2.5 b -3 c
inline constexpr std::string_view kRedisDumpZset =
    "111a1a0000000600816302dffd02816102010181620283322e3504ff0a00a68a1ab1a9f2dcc2";
// ZADD zz 1e17 m 0.1 n -5e18 o: integral scores within LLONG_MAX/2 are listpack integers, the
// others "%.17g" text (LZF-compressed here).
inline constexpr std::string_view kRedisDumpZsetScores =
    "11c32e3718370000000600816f02862d35652b313807816e0293302e3130e005000f3114816d02f400008a5d78"
    "45630109ff0a007ff601e7a6774d1d";
// RPUSH l a b 1 2 300
inline constexpr std::string_view kRedisDumpList =
    "1201021414000000050081610281620201010201c12c02ff0a008421c79fc0b821fa";

inline std::string FromHex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace dynakv::rdb
