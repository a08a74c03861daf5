#!/usr/bin/env bash
# Compare a demo transcript with the one tools/demo.py expects, line by line.
#   tools/cmp_transcript.sh LABEL EXPECTED ACTUAL
# Every expected line is one check (a reply, or one line of a multi-line reply);
# missing or extra lines fail. Prints the first mismatches, then
# "LABEL: N passed, M failed" (the form .ci/run counts); exit 1 on any failure.
set -u
[ $# -eq 3 ] || { echo "usage: $0 LABEL EXPECTED ACTUAL" >&2; exit 2; }
[ -f "$3" ] || { echo "$1: 0 passed, 1 failed (no output file $3)"; exit 1; }
awk -v label="$1" '
    FNR == NR { e[FNR] = $0; ne = FNR; next }
    { a[FNR] = $0; na = FNR }
    END {
        n = ne > na ? ne : na; p = 0; f = 0
        for (i = 1; i <= n; i++) {
            if ((i in e) && (i in a) && e[i] == a[i]) { p++; continue }
            f++
            if (f <= 10) printf "  line %d\n    expected: %s\n    got:      %s\n", i, (i in e) ? e[i] : "(nothing)", (i in a) ? a[i] : "(nothing)"
        }
        printf "%s: %d passed, %d failed\n", label, p, f
        exit f > 0
    }' "$2" "$3"
