#!/usr/bin/env bash
# Checks that every function's header comment lists exactly the results it can
# return, against what the C suite saw it return:
#   - a code a function returned that its "Results:" paragraph does not list
#     fails (the header must list every result);
#   - a code a function lists that it never returned fails (every listed result
#     is reachable, and a test reaches it), unless tests/c/results-unreached.txt
#     names it with the reason no test can reach it;
#   - a line of results-unreached.txt that is stale (not listed, or reached
#     though not marked "race") fails too.
# The suite's calls are recorded with CGM_RESULT_LOG (rust/cgm-ffi/src/error.rs:
# "<source file>:<line> <code>" per call, the line being the function's
# boundary call). CGM_RESULT_PANIC is listed once for every call, at
# `cgm_result`, and is never expected.
# Usage: tests/c/check_results.sh LOG
set -euo pipefail
cd "$(dirname "$0")/../.."
log=${1:?usage: check_results.sh LOG}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Listed: "function CODE" for each result-returning function's Results
# paragraph; "Results: as `cgm_x`" includes cgm_x's list.
perl -0777 -ne '
  while (m{/\*\*((?:(?!\*/).)*)\*/\s*cgm_result\s+(cgm_\w+)\(}sg) {
    my ($doc, $fn) = ($1, $2);
    $doc =~ /Results:(.*?)(?:\n\s*\*\s*\n|\z)/s or die "check_results: $fn has no Results paragraph\n";
    my $p = $1;
    $codes{$fn} = { map { $_ => 1 } ($p =~ /CGM_RESULT_\w+/g) };
    $as{$fn} = [ $p =~ /\bas `(cgm_\w+)`/g ];
  }
  sub all { my $f = shift; my %c = %{ $codes{$f} or die "check_results: no function $f\n" };
            %c = (%c, all($_)) for @{ $as{$f} }; return %c }
  for my $f (sort keys %codes) { my %c = all($f); print "$f $_\n" for sort keys %c }
' include/cgm.h | sort -u > "$tmp/listed"

# Returned: each logged source line mapped to the extern function it is in
# (the last `fn cgm_*` at or above it), each code number to its name.
sed -n 's/^#define \(CGM_RESULT_[A-Z_]*\) \([0-9]*\)$/\2 \1/p' include/cgm.h > "$tmp/names"
sort -u "$log" | while read -r at code; do
  file=${at%:*} line=${at##*:}
  [ -f "$file" ] || file=${file#"$PWD"/}
  fn=$(awk -v n="$line" 'NR > n { exit } match($0, /fn cgm_[a-z0-9_]+\(/) { f = substr($0, RSTART + 3, RLENGTH - 4) } END { print f }' "$file")
  echo "$fn $(awk -v c="$code" '$1 == c { print $2 }' "$tmp/names")"
done | sort -u > "$tmp/returned"

awk '!/^#/ && NF { print $1, $2 }' tests/c/results-unreached.txt | sort -u > "$tmp/unreached"
# "race" lines may be reached by chance, so only the others can go stale.
awk '!/^#/ && NF && $3 != "race" { print $1, $2 }' tests/c/results-unreached.txt | sort -u > "$tmp/unreached_todo"

fail=0
report() { # report FILE MESSAGE: each line of FILE, then fail
  [ -s "$1" ] || return 0
  echo "check_results: $2" >&2
  sed 's/^/  /' "$1" >&2
  fail=1
}
grep -v ' CGM_RESULT_PANIC$' "$tmp/returned" | comm -23 - "$tmp/listed" > "$tmp/unlisted" || true
report "$tmp/unlisted" "returned, but not in the function's Results in include/cgm.h (document it in rust/cgm-ffi/src and regenerate the header):"
grep ' CGM_RESULT_PANIC$' "$tmp/returned" > "$tmp/panics" || true
report "$tmp/panics" "returned CGM_RESULT_PANIC (a bug):"
comm -23 "$tmp/listed" "$tmp/returned" | comm -23 - "$tmp/unreached" > "$tmp/unreached_now" || true
report "$tmp/unreached_now" "listed, but never returned by the C suite (add a test that reaches it, or say why none can in tests/c/results-unreached.txt):"
comm -12 "$tmp/unreached_todo" "$tmp/returned" > "$tmp/stale" || true
comm -23 "$tmp/unreached" "$tmp/listed" >> "$tmp/stale" || true
report "$tmp/stale" "stale lines in tests/c/results-unreached.txt (reached by the suite, or not listed):"

if [ "$fail" = 0 ]; then
  echo "check_results: $(cut -d' ' -f1 "$tmp/listed" | sort -u | wc -l) functions, $(wc -l < "$tmp/listed") listed results: $(wc -l < "$tmp/returned") returned by the suite, $(wc -l < "$tmp/unreached") unreachable by a test (tests/c/results-unreached.txt), none unlisted"
fi
exit "$fail"
