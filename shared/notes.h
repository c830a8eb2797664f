/*
 * notes - a growable list of short sentences explaining a plan item (R14)
 *
 * Owns its strings; mx_notes_clear() frees them. A failed allocation drops
 * the note silently (notes explain, they never decide).
 */
#ifndef MXTIER_NOTES_H
#define MXTIER_NOTES_H

#include <stddef.h>

struct mx_notes {
	char  **v;
	size_t	n;
};

/* mx_notes_add - append a printf-formatted note */
void	mx_notes_add(struct mx_notes *notes, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* mx_notes_clear - free every note */
void	mx_notes_clear(struct mx_notes *notes);

#endif
