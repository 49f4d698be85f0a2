#!/bin/bash
# The plots' colours (the registry's, and the peers', from bench/models gnuplot) tell every
# series apart for viewers with normal vision and for the two common colour blindnesses: each
# colour is seen as it is, and as a deuteranope and a protanope see it (Machado, Oliveira and
# Fernandes 2009, severity 1, on linear RGB), and every pair must stay at least MIN (default
# 12) apart in CIELAB (CIE76 delta E; about 2 is the least a viewer notices, and lines of a
# plot need far more). Prints the closest pair; exit 1 when it is closer than MIN.
set -u
cd "$(dirname "$0")/.." || exit 1
min=${1:-12}
bench/models gnuplot | sed -n 's/.*strstrt(s, "\([^"]*\)") > 0) ? "\(#[0-9a-fA-F]\{6\}\)".*/\1 \2/p' |
    awk -v min="$min" '
    function lin(c) { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ^ 2.4 }
    function hex(s,   i, v, d) {
        v = 0; s = tolower(s)
        for (i = 1; i <= length(s); i++) { d = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + d }
        return v
    }
    function f(t) { return t > 0.008856 ? t ^ (1 / 3) : 7.787 * t + 16 / 116 }
    function clamp(x) { return x < 0 ? 0 : x > 1 ? 1 : x }
    # CIELAB of a linear RGB colour, into L[k], A[k], B[k]
    function lab(k, r, g, b,   X, Y, Z) {
        X = 0.4124 * r + 0.3576 * g + 0.1805 * b
        Y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        Z = 0.0193 * r + 0.1192 * g + 0.9505 * b
        L[k] = 116 * f(Y) - 16; A[k] = 500 * (f(X / 0.95047) - f(Y)); B[k] = 200 * (f(Y) - f(Z / 1.08883))
    }
    BEGIN {
        split("1 0 0 0 1 0 0 0 1", M0, " ")
        split("0.367322 0.860646 -0.227968 0.280085 0.672501 0.047413 -0.011820 0.042940 0.968881", M1, " ")
        split("0.152286 1.052583 -0.204868 0.114503 0.786281 0.099216 -0.003882 -0.048116 1.051998", M2, " ")
        view[0] = "normal vision"; view[1] = "deuteranopia"; view[2] = "protanopia"
        n = 0
    }
    {
        name[n] = $1; c = substr($2, 2)
        r = lin(hex(substr(c, 1, 2))); g = lin(hex(substr(c, 3, 2))); b = lin(hex(substr(c, 5, 2)))
        for (v = 0; v < 3; v++) {
            if (v == 0) { rr = r; gg = g; bb = b }
            else if (v == 1) { rr = clamp(M1[1]*r + M1[2]*g + M1[3]*b); gg = clamp(M1[4]*r + M1[5]*g + M1[6]*b); bb = clamp(M1[7]*r + M1[8]*g + M1[9]*b) }
            else { rr = clamp(M2[1]*r + M2[2]*g + M2[3]*b); gg = clamp(M2[4]*r + M2[5]*g + M2[6]*b); bb = clamp(M2[7]*r + M2[8]*g + M2[9]*b) }
            lab(n "," v, rr, gg, bb)
        }
        n++
    }
    END {
        if (n < 2) { print "palette.sh: no colours from bench/models gnuplot" > "/dev/stderr"; exit 1 }
        best = 1e9
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) for (v = 0; v < 3; v++) {
            a = i "," v; b = j "," v
            d = sqrt((L[a] - L[b]) ^ 2 + (A[a] - A[b]) ^ 2 + (B[a] - B[b]) ^ 2)
            if (d < best) { best = d; bi = i; bj = j; bv = v }
        }
        printf "palette.sh: %d colours; the closest pair, %s and %s, %.1f apart (%s)\n", n, name[bi], name[bj], best, view[bv]
        if (best < min) { printf "palette.sh: closer than %s\n", min > "/dev/stderr"; exit 1 }
    }'
