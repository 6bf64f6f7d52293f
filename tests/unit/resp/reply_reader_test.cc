#include "resp/reply_reader.h"

#include <doctest/doctest.h>

#include "resp/reply_writer.h"

namespace dynakv::resp {

TEST_CASE("ReplyReader reads what ReplyWriter writes, in RESP2 and RESP3") {
  std::string out;
  ReplyWriter writer(&out, 3);
  writer.ArrayHeader(9);
  writer.Simple("OK");
  writer.Error("ERR bad");
  writer.Integer(-5);
  writer.Bulk(std::string("a\r\nb", 4));
  writer.Null();
  writer.MapHeader(1);
  writer.Bulk("k");
  writer.Double(1.5);
  writer.SetHeader(0);
  writer.Bool(true);
  writer.Verbatim("text");
  writer.BigNumber("123");  // the tenth, outside the array
  ReplyReader reader(out);
  ReplyElement e = reader.Next();
  CHECK(e.type == ReplyType::kArray);
  CHECK(e.count == 9);
  e = reader.Next();
  CHECK((e.type == ReplyType::kStatus && e.text == "OK"));
  e = reader.Next();
  CHECK((e.type == ReplyType::kError && e.text == "ERR bad"));
  e = reader.Next();
  CHECK((e.type == ReplyType::kInteger && e.integer == -5));
  e = reader.Next();
  CHECK((e.type == ReplyType::kBulk && e.text == std::string("a\r\nb", 4)));
  CHECK(reader.Next().type == ReplyType::kNull);
  e = reader.Next();
  CHECK((e.type == ReplyType::kMap && e.count == 1));
  CHECK(reader.Next().text == "k");
  e = reader.Next();
  CHECK((e.type == ReplyType::kDouble && e.number == 1.5));
  e = reader.Next();
  CHECK((e.type == ReplyType::kSet && e.count == 0));
  e = reader.Next();
  CHECK((e.type == ReplyType::kBool && e.integer == 1));
  e = reader.Next();
  CHECK((e.type == ReplyType::kVerbatim && e.format == "txt" && e.text == "text"));
  e = reader.Next();
  CHECK((e.type == ReplyType::kBigNumber && e.text == "123"));
  CHECK(reader.at_end());
  CHECK(reader.Next().type == ReplyType::kInvalid);

  ReplyReader nulls("$-1\r\n*-1\r\n,inf\r\n,-inf\r\n");
  CHECK(nulls.Next().type == ReplyType::kNullBulk);
  CHECK(nulls.Next().type == ReplyType::kNullArray);
  CHECK(nulls.Next().number > 1e308);
  CHECK(nulls.Next().number < -1e308);
}

TEST_CASE("ReplyReader never reads past a cut-short reply") {
  for (std::string_view bad : {"$5\r\nab\r\n", "$2\r\nabcd", ":x\r\n", "*", "=3\r\ntxt\r\n",
                               "#x\r\n", "*-2\r\n", "?\r\n"}) {
    ReplyReader reader(bad);
    CHECK(reader.Next().type == ReplyType::kInvalid);
  }
}

}  // namespace dynakv::resp
