/*
 * notes - growable list of explanation sentences (see notes.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "notes.h"

/* mx_notes_add - append a printf-formatted note; dropped on ENOMEM */
void
mx_notes_add(struct mx_notes *notes, const char *fmt, ...)
{
	va_list	ap;
	char   *s, **grown;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	grown = realloc(notes->v, (notes->n + 1) * sizeof(*notes->v));
	if (grown == NULL) {
		free(s);
		return;
	}
	notes->v = grown;
	notes->v[notes->n++] = s;
}

/* mx_notes_clear - free every note */
void
mx_notes_clear(struct mx_notes *notes)
{
	size_t	i;

	for (i = 0; i < notes->n; i++)
		free(notes->v[i]);
	free(notes->v);
	notes->v = NULL;
	notes->n = 0;
}
