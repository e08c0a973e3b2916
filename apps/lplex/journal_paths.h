// Helpers shared by the commands that read journals (`lplex dump`,
// `lplex verify`, `lplex inspect`).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace lplex::cli {

// Expands directories into their *.lpj files; files are kept as given. A
// directory whose .lpj files all carry seqs (v2 files with base seqs, as a
// recorder or a cloud instance writes them) is taken by the first seq each
// file holds, ties by name time (so a cloud instance's `backfill-*` files
// fall where their seqs belong among its `nmea2k-*` files, whatever their
// names say); any other directory (v1 files, captures imported without
// seqs, a file that cannot be opened) oldest name first, by the timestamp in
// the name, then by name. Each file of such a directory is opened once more
// to read its seqs (headers and index, no block is decompressed). A file
// reached twice (named twice, or named and inside a named directory; the
// same device and inode, or the same path when it cannot be stat'ed) is
// kept once, and `err` hears "<command>: <path>: given more than once; read
// once" once per such file. Problems (a directory that cannot be listed or
// holds no .lpj file) are written to `err` after "<command>: ", e.g.
// "lplex dump: no .lpj files in DIR".
std::vector<std::string> ExpandJournalPaths(const std::vector<std::string>& paths, std::string_view command,
                                            std::FILE* err);

// Ends a command's output: flushes `out` and checks it for a write error
// (a full disk, a closed pipe). On an error writes "<command>: writing
// output: <reason>" to `err` and returns 1 (or `rc` when that is already
// non-zero); otherwise returns `rc`. `earlier_errno` is the errno of a
// write the caller already saw fail (0 if none); it names the reason when
// the flush itself has nothing left to fail on.
int FinishOutput(std::FILE* out, std::string_view command, std::FILE* err, int rc, int earlier_errno = 0);

// The reason of a failed write to a stream, read from errno right after it
// failed ("write error" when errno says nothing).
std::string WriteErrorReason(int saved_errno);

}  // namespace lplex::cli
