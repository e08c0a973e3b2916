// Instance ids: the name a boat (a replication instance) goes by. They become
// directory names ({data-dir}/instances/<id>/journal), path components of
// archive copies ({root}/<id>/<file>) and parts of object keys
// ({prefix}<id>/<file>), so one validator guards every place an id enters —
// command-line flags, configuration, the cloud's directory listing and the
// archivers — and an id can never climb out of the directory or prefix it is
// put under ("..", "/"), hide itself (".x") or pick another bucket.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace lplex {

inline constexpr size_t kMaxInstanceIdLength = 128;

// OK when `id` is 1..128 characters of [A-Za-z0-9._-] and does not start with
// '.'. Otherwise InvalidArgument with a message that quotes the id (control
// characters escaped) and states the rule, e.g.
//   instance id "../../evil" is not valid: use 1..128 characters of A-Z a-z 0-9 . _ - (not starting with '.')
// Callers that allow "no instance id" (a boat without a replication id)
// check for the empty string themselves before calling this.
Status ValidateInstanceId(std::string_view id);

// ValidateInstanceId(id).ok(), for filters.
bool IsValidInstanceId(std::string_view id);

}  // namespace lplex
