/*
 * json - the small JSON writer the route and report outputs share
 *
 * Writes to a stdio stream; strings are escaped per RFC 8259 (control
 * characters as \uXXXX, non-ASCII octets passed through). No allocation.
 */
#ifndef MXTIER_JSON_H
#define MXTIER_JSON_H

#include <stdio.h>

/* mx_json_string - write s as a JSON string, or null when s is NULL */
void	mx_json_string(FILE *fp, const char *s);

#endif
