/*
 * planfmt - print a plan as the readable route table or as route JSON
 *
 * The JSON is the contract of DESIGN.md section 4 (route JSON); the text
 * table is for people. Both print tiers in ascending preference and hosts
 * and addresses in try order, unusable items included with their notes.
 * Reads the plan only; writes to the caller's stream.
 */
#ifndef MXTIER_PLANFMT_H
#define MXTIER_PLANFMT_H

#include <stdio.h>

#include "plan.h"

/* mx_plan_print_text - the route table */
void	mx_plan_print_text(FILE *fp, const struct mx_plan *plan);

/*
 * mx_plan_print_json - the route JSON object. When extra is not NULL it is
 * called before the closing brace to add members (it must start each with
 * ", "); the report mode uses it for attempts and explanation.
 */
void	mx_plan_print_json(FILE *fp, const struct mx_plan *plan,
			   void (*extra)(FILE *fp, void *arg), void *arg);

#endif
