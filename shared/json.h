/*
 * json - the small JSON writer the route and report outputs share
 *
 * Writes to a stdio stream; strings are escaped per RFC 8259 and always
 * come out as valid UTF-8 (RFC 3629), whatever bytes they held: a server's
 * reply text or a journal row may be Latin-1 or garbage. Valid UTF-8 passes
 * through; every ill-formed sequence (a stray continuation octet, a lead
 * octet without its continuations, an overlong form, a UTF-16 surrogate, a
 * code point above U+10FFFF, octets C0, C1, F5-FF) becomes one U+FFFD per
 * maximal ill-formed part (Unicode 15, 3.9, U+FFFD substitution), written
 * as \ufffd. Control characters (C0, DEL and C1) are written as \uXXXX.
 * No allocation.
 */
#ifndef MXTIER_JSON_H
#define MXTIER_JSON_H

#include <stdint.h>
#include <stdio.h>

/* mx_json_string - write s as a JSON string, or null when s is NULL */
void	mx_json_string(FILE *fp, const char *s);

/* mx_json_string_or_null - s as a JSON string, or null when it is empty */
void	mx_json_string_or_null(FILE *fp, const char *s);

/* mx_json_number_or_null - v as a JSON number, or null when it is below min */
void	mx_json_number_or_null(FILE *fp, int64_t v, int64_t min);

#endif
