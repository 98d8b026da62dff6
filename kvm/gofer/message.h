// The Gofer protocol's messages (src/gofer/README.md, "Protocol"; src/gofer/protocol.ts is the
// Sentry's side): little-endian fields read with a sticky `bad` flag and written into one reused
// buffer, so no message of the Sentry's, however damaged, can make the Gofer misbehave.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tsvisor::gofer {
constexpr uint32_t kProtocolVersion = 2;
constexpr size_t kMaxRoots = 256;
// Largest message either side sends or accepts (readdir replies are split to fit).
constexpr size_t kMaxMessage = 64 * 1024;
constexpr size_t kMaxComponents = 2048;
constexpr size_t kReplyHeader = 12;
constexpr size_t kReplyFlagsOffset = 6;
constexpr uint16_t kReplyMore = 1;

enum Op : uint16_t {
  kHello = 0, kStat = 1, kOpen = 2, kReaddir = 3, kReadlink = 4, kMkdir = 5, kUnlink = 6, kRename = 7,
  kSymlink = 8, kLink = 9, kChmod = 10, kChown = 11, kTruncate = 12, kUtimens = 13, kStatfs = 14, kAttach = 15,
};

// The Linux x86-64 open flags as the protocol carries them (glibc's own O_LARGEFILE is 0 here).
namespace linux_flags {
constexpr uint32_t kAccmode = 03, kRdonly = 0, kWronly = 01, kCreat = 0100, kExcl = 0200, kNoctty = 0400,
                   kTrunc = 01000, kAppend = 02000, kNonblock = 04000, kDsync = 010000, kDirect = 040000,
                   kLargefile = 0100000, kDirectory = 0200000, kNofollow = 0400000, kNoatime = 01000000,
                   kSync = 04010000, kPath = 010000000, kTmpfileBit = 020000000;
// The flags open passes on to the host; others are dropped (O_CLOEXEC is the Sentry's fd table's).
constexpr uint32_t kPassed = kAccmode | kCreat | kExcl | kNoctty | kTrunc | kAppend | kNonblock | kDsync | kDirect |
                             kLargefile | kDirectory | kNofollow | kNoatime | kSync;
}  // namespace linux_flags

// Reads one message; a read past its end sets `bad` and gives zeros from then on.
class Reader {
 public:
  Reader(const uint8_t* bytes, size_t end) : bytes_(bytes), end_(end) {}

  bool bad() const { return bad_; }
  // True when the whole message was read and nothing was missing.
  bool Complete() const { return !bad_ && pos_ == end_; }
  size_t Left() const { return end_ - pos_; }

  uint8_t U8() { return static_cast<uint8_t>(Take(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Take(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Take(4)); }
  int64_t I64() { return static_cast<int64_t>(Take(8)); }

  // u16 length, then the bytes.
  std::string Str() {
    size_t n = U16();
    if (bad_ || n > Left()) {
      bad_ = true;
      return std::string();
    }
    std::string s(reinterpret_cast<const char*>(bytes_ + pos_), n);
    pos_ += n;
    return s;
  }

  // u16 count, then count strings. A count the message cannot hold (each component takes at least
  // its length field) is refused before anything is allocated for it.
  std::vector<std::string> Path() {
    std::vector<std::string> out;
    size_t count = U16();
    if (bad_ || count > kMaxComponents || count * 2 > Left()) {
      bad_ = true;
      return out;
    }
    out.reserve(count);
    for (size_t i = 0; i < count && !bad_; i++) out.push_back(Str());
    return out;
  }

 private:
  uint64_t Take(size_t n) {
    if (bad_ || n > Left()) {
      bad_ = true;
      return 0;
    }
    uint64_t v = 0;
    std::memcpy(&v, bytes_ + pos_, n);  // x86-64 is little-endian, as the protocol
    pos_ += n;
    return v;
  }

  const uint8_t* bytes_;
  size_t end_;
  size_t pos_ = 0;
  bool bad_ = false;
};

// Builds one message in a reused buffer; `overflow` is set (and nothing more written) once it is full.
class Writer {
 public:
  Writer() : bytes_(kMaxMessage) {}

  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return pos_; }
  bool overflow() const { return overflow_; }
  bool Fits(size_t n) const { return pos_ + n <= bytes_.size(); }

  Writer& Reset() {
    pos_ = 0;
    overflow_ = false;
    return *this;
  }
  Writer& U8(uint8_t v) { return Raw(&v, 1); }
  Writer& U16(uint16_t v) { return Raw(&v, 2); }
  Writer& U32(uint32_t v) { return Raw(&v, 4); }
  Writer& Raw(const void* p, size_t n) {
    if (overflow_ || !Fits(n)) {
      overflow_ = true;
      return *this;
    }
    std::memcpy(bytes_.data() + pos_, p, n);
    pos_ += n;
    return *this;
  }
  void SetByte(size_t at, uint8_t v) { bytes_[at] = v; }

  // Starts a reply: u32 id, u16 op, u16 flags, u32 errno (0 = success).
  Writer& BeginReply(uint32_t id, uint16_t op, uint32_t err = 0, uint16_t flags = 0) {
    return Reset().U32(id).U16(op).U16(flags).U32(err);
  }

 private:
  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
  bool overflow_ = false;
};
}  // namespace tsvisor::gofer
