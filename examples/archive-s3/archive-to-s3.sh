#!/usr/bin/env bash
# archive-to-s3.sh: an lplex journal archive script (journal.archive.command)
# that uploads each finished journal file to S3 with the AWS CLI.
#
# Protocol (spec/journal.md §6.4): lplex runs this program with the file paths
# as arguments and writes one JSON object per file to stdin:
#   {"path":"/var/lib/lplex/journal/nmea2k-20260302T140000.000Z.lpj",
#    "instance_id":"boat-7","size":1048576,"created":"2026-03-02T14:00:00Z"}
# For every input line, in order, this script prints exactly one line:
#   {"path":"…","status":"ok"}                      the object is stored
#   {"path":"…","status":"error","error":"why"}     it is not; lplex retries
# The keys come from stdin (.path and .instance_id), never from argv, so the
# object key follows the instance the file belongs to:
#   s3://$LPLEX_ARCHIVE_BUCKET/${LPLEX_ARCHIVE_PREFIX}<instance_id>/<file name>
#   s3://$LPLEX_ARCHIVE_BUCKET/${LPLEX_ARCHIVE_PREFIX}<file name>   (instance_id "")
#
# Environment:
#   LPLEX_ARCHIVE_BUCKET    bucket name (required)
#   LPLEX_ARCHIVE_PREFIX    key prefix, e.g. "journals/" (default: none; add the
#                           trailing "/" yourself if you want one)
#   LPLEX_ARCHIVE_ENDPOINT  S3-compatible endpoint URL, passed as --endpoint-url;
#                           defaults to $AWS_ENDPOINT_URL_S3, then $AWS_ENDPOINT_URL
#                           (AWS CLI releases before 2.13 ignore those two
#                           variables themselves, so the script passes them on)
#   LPLEX_ARCHIVE_AWS       the aws program (default: aws on PATH)
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
#   AWS_REGION / AWS_DEFAULT_REGION ...: read by the AWS CLI as usual.
# Needs bash, jq and the AWS CLI (v1 or v2).
#
# An object that already exists is never overwritten: each upload stores the
# file's SHA-256 as metadata (x-amz-meta-lplex-sha256, the same as lplex's
# built-in S3 target); when the key exists, the same checksum answers ok without
# uploading, and anything else is an error (an archive copy with different
# content must never be replaced, or retention could delete the only copy).
#
# A failure for one file never stops the others: no `set -e` here.
set -u

bucket=${LPLEX_ARCHIVE_BUCKET:-}
prefix=${LPLEX_ARCHIVE_PREFIX:-}
endpoint=${LPLEX_ARCHIVE_ENDPOINT:-${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-}}}
aws_bin=${LPLEX_ARCHIVE_AWS:-aws}

if ! command -v jq >/dev/null 2>&1; then
  # Without jq no answer can be written; lplex counts every file as failed.
  echo "archive-to-s3: jq not found on PATH" >&2
  exit 1
fi

endpoint_args=()
if [ -n "$endpoint" ]; then
  endpoint_args=(--endpoint-url "$endpoint")
fi

answer_ok() {
  jq -cn --arg p "$1" '{path: $p, status: "ok"}'
}
answer_error() {
  jq -cn --arg p "$1" --arg e "$2" '{path: $p, status: "error", error: $e}'
  echo "archive-to-s3: $1: $2" >&2
}

# One line of stdin -> one line of stdout.
archive_line() {
  local line=$1 path instance_id name key dest err rc

  # .path and .instance_id, NUL-separated so any byte in a path survives.
  if ! { IFS= read -r -d '' path && IFS= read -r -d '' instance_id; } < <(
    jq -j 'if type == "object" and (.path | type) == "string" and (.path | length) > 0
           then .path, "\u0000", (.instance_id // "" | tostring), "\u0000"
           else error("no path") end' <<<"$line" 2>/dev/null); then
    answer_error "" "input line is not a JSON object with a path: ${line:0:200}"
    return
  fi

  if [ -z "$bucket" ]; then
    answer_error "$path" "LPLEX_ARCHIVE_BUCKET is not set"
    return
  fi
  case "$instance_id" in
    */* | . | ..)
      answer_error "$path" "instance_id \"$instance_id\" cannot be part of an object key"
      return
      ;;
  esac
  if [ ! -f "$path" ]; then
    answer_error "$path" "no such file"
    return
  fi

  name=${path##*/}
  if [ -n "$instance_id" ]; then
    key="${prefix}${instance_id}/${name}"
  else
    key="${prefix}${name}"
  fi
  dest="s3://${bucket}/${key}"

  # A relative path that starts with '-' would read as an option.
  local src=$path
  case "$src" in -*) src="./$src" ;; esac

  local sum
  if ! sum=$(sha256sum <"$src" 2>/dev/null); then
    answer_error "$path" "cannot read the file"
    return
  fi
  sum=${sum%% *}

  # Already there? (stdin from /dev/null: the CLI must not eat our input.)
  local head
  if head=$("$aws_bin" "${endpoint_args[@]}" s3api head-object --bucket "$bucket" --key "$key" \
              --output json 2>/dev/null </dev/null); then
    local stored
    stored=$(jq -r '.Metadata["lplex-sha256"] // ""' <<<"$head" 2>/dev/null)
    if [ "$stored" = "$sum" ]; then
      answer_ok "$path"
    else
      answer_error "$path" "$dest already exists with different or unverifiable content; not overwritten"
    fi
    return
  fi

  err=$("$aws_bin" "${endpoint_args[@]}" s3 cp --only-show-errors --no-progress \
          --metadata "lplex-sha256=$sum" "$src" "$dest" 2>&1 >/dev/null </dev/null)
  rc=$?
  if [ $rc -eq 0 ]; then
    answer_ok "$path"
  else
    err=$(printf '%s' "$err" | tr '\r\n' '  ' | sed 's/  */ /g; s/^ //; s/ $//')
    answer_error "$path" "aws s3 cp to $dest failed (exit $rc): ${err:0:500}"
  fi
}

while IFS= read -r line || [ -n "$line" ]; do
  [ -z "$line" ] && continue  # lplex never sends blank lines; nothing to answer
  archive_line "$line"
done
exit 0
