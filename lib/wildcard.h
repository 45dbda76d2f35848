/*
 * File-name matching for QUERY_DIRECTORY search patterns (MS-FSA 2.1.4.4,
 * IsNameInExpression) and case-insensitive name comparison.
 *
 * Pattern characters: '*' any run, '?' exactly one character, and the DOS
 * wildcards that Windows clients send after translating "*." / "?" /
 * ".*": '<' (DOS_STAR: any run that does not consume the name's last
 * '.'), '>' (DOS_QM: one character, or nothing at a '.' or at the end of
 * the name), '"' (DOS_DOT: a '.', or nothing at the end of the name).
 * '?' and '>' take one UTF-16 code unit, as on Windows, so a character
 * outside the BMP needs two. "*" and "*.*" match every name (the latter
 * as Win32 and DOS do). An empty pattern matches only an empty name; the
 * caller decides what an empty QUERY_DIRECTORY pattern means.
 *
 * Matching simulates the pattern as an automaton over the name:
 * O(pattern x name) time and O(pattern) memory, never backtracking, so a
 * hostile pattern such as "*a*a*a*a*b" costs no more than any other.
 *
 * Case folding: Unicode simple uppercase mapping for the Basic Latin,
 * Latin-1, Latin Extended-A/B, IPA, Greek and Coptic (modern letters),
 * Cyrillic (incl. supplement), Armenian, Latin Extended Additional,
 * Roman numerals, circled letters and fullwidth Latin blocks. Characters
 * elsewhere (Georgian, Glagolitic, Greek Extended, everything outside
 * the BMP, …) compare exactly. Windows folds with the volume's $UpCase
 * table, a BMP-only simple uppercase map, so the two agree on the
 * covered blocks; no locale-specific (Turkish) or full (ß → SS) folding,
 * as on Windows.
 *
 * Invalid UTF-8 bytes are compared as themselves (each maps to a code
 * point no valid character uses), never as a match-all.
 */
#ifndef PORTHOS_WILDCARD_H
#define PORTHOS_WILDCARD_H

#include <stdbool.h>
#include <stdint.h>

bool wildcard_match(const char *pattern_utf8, const char *name_utf8);
/* Whether the pattern has any of * ? < > " (else it names one file). */
bool wildcard_has_wild(const char *pattern_utf8);
/* Case-insensitive comparison with the same folding: <0, 0 (equal), >0. */
int name_casecmp(const char *a_utf8, const char *b_utf8);
/* The folded (uppercase) form of one code point. */
uint32_t wildcard_fold(uint32_t cp);

#endif
