#include "core/time.h"

#include <cstdio>

namespace lplex::timefmt {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yy + (*m <= 2));
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool ValidCivil(const CivilTime& c) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > kDays[c.month - 1]) return false;
  if (c.hour > 23 || c.minute > 59 || c.second > 59) return false;
  if (c.month == 2 && c.day == 29) {
    bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
    if (!leap) return false;
  }
  return true;
}

// Two ASCII digits of 0..99, written by hand: this runs once per frame on the
// broker's ingest path, where snprintf's format parsing was ~13 % of the time.
void Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

void AppendRfc3339NanoSlow(const CivilTime& c, std::string* out) {
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour,
                        c.minute, c.second);
  out->append(buf, static_cast<size_t>(n));
}

}  // namespace

CivilTime ToCivil(int64_t us) {
  CivilTime c{};
  int64_t secs = FloorDiv(us, kMicrosPerSecond);
  c.micros = static_cast<int>(us - secs * kMicrosPerSecond);
  int64_t days = FloorDiv(secs, 86400);
  int64_t sod = secs - days * 86400;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  return c;
}

int64_t FromCivil(const CivilTime& c) {
  int64_t days = DaysFromCivil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
  return ((days * 86400) + c.hour * 3600 + c.minute * 60 + c.second) * kMicrosPerSecond + c.micros;
}

std::string FileStamp(int64_t us) {
  CivilTime c = ToCivil(us);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%03dZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second, c.micros / 1000);
  return buf;
}

std::optional<int64_t> ParseFileStamp(std::string_view s) {
  // YYYYMMDDTHHMMSS.mmmZ
  if (s.size() != 20 || s[8] != 'T' || s[15] != '.' || s[19] != 'Z') return std::nullopt;
  CivilTime c{};
  int ms = 0;
  if (!Digits(s, 0, 4, &c.year) || !Digits(s, 4, 2, &c.month) || !Digits(s, 6, 2, &c.day) ||
      !Digits(s, 9, 2, &c.hour) || !Digits(s, 11, 2, &c.minute) || !Digits(s, 13, 2, &c.second) ||
      !Digits(s, 16, 3, &ms)) {
    return std::nullopt;
  }
  if (!ValidCivil(c)) return std::nullopt;
  c.micros = ms * 1000;
  return FromCivil(c);
}

std::optional<int64_t> TimeFromJournalName(std::string_view name) {
  constexpr std::string_view kExt = ".lpj";
  if (name.size() >= kExt.size() && name.substr(name.size() - kExt.size()) == kExt) {
    name.remove_suffix(kExt.size());
  }
  size_t dash = name.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  return ParseFileStamp(name.substr(dash + 1));
}

void AppendRfc3339Nano(int64_t us, std::string* out) {
  const CivilTime c = ToCivil(us);
  // "YYYY-MM-DDTHH:MM:SS" + ".ffffff" + "Z": 27 bytes at most for 4-digit years.
  if (c.year < 0 || c.year > 9999) {
    AppendRfc3339NanoSlow(c, out);  // printf's rendering of odd years, kept as it always was
  } else {
    const size_t at = out->size();
    out->resize(at + 19);
    char* p = out->data() + at;
    Put2(p, c.year / 100);
    Put2(p + 2, c.year % 100);
    p[4] = '-';
    Put2(p + 5, c.month);
    p[7] = '-';
    Put2(p + 8, c.day);
    p[10] = 'T';
    Put2(p + 11, c.hour);
    p[13] = ':';
    Put2(p + 14, c.minute);
    p[16] = ':';
    Put2(p + 17, c.second);
  }
  if (c.micros != 0) {
    char frac[7];
    frac[0] = '.';
    int v = c.micros;
    for (int i = 6; i >= 1; --i) {
      frac[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    size_t len = 7;
    while (frac[len - 1] == '0') --len;
    out->append(frac, len);
  }
  out->push_back('Z');
}

std::string Rfc3339Nano(int64_t us) {
  std::string s;
  AppendRfc3339Nano(us, &s);
  return s;
}

std::string Rfc3339Seconds(int64_t us) {
  CivilTime c = ToCivil(us);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
  return buf;
}

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  CivilTime c{};
  // RFC 3339 §5.6 lets applications put a space between date and time.
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  if (!Digits(s, 0, 4, &c.year) || !Digits(s, 5, 2, &c.month) || !Digits(s, 8, 2, &c.day) ||
      !Digits(s, 11, 2, &c.hour) || !Digits(s, 14, 2, &c.minute) || !Digits(s, 17, 2, &c.second) ||
      !ValidCivil(c)) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    int micros = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
    c.micros = micros;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh = 0;
    int om = 0;
    if (!Digits(s, pos + 1, 2, &oh) || !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return FromCivil(c) - offset_s * kMicrosPerSecond;
}

}  // namespace lplex::timefmt
