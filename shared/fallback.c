/*
 * fallback - what a failed delivery attempt leads to, rule R11 (see fallback.h)
 */
#include "fallback.h"

/* mx_stage_name - journal token of a stage */
const char *
mx_stage_name(enum mx_stage s)
{
	static const char *const names[] = {
		"connect", "greeting", "ehlo", "starttls", "mail", "rcpt", "data", "dot"
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* mx_action_name - token of an action */
const char *
mx_action_name(enum mx_action a)
{
	switch (a) {
	case MX_ACTION_DONE: return "done";
	case MX_ACTION_MOVE_ON: return "move_on";
	case MX_ACTION_DEFER: return "defer";
	case MX_ACTION_BOUNCE: return "bounce";
	}
	return "?";
}

/* session_stage - greeting, EHLO/HELO, STARTTLS: before any transaction */
static bool
session_stage(enum mx_stage stage)
{
	return stage == MX_STAGE_GREETING || stage == MX_STAGE_EHLO ||
	    stage == MX_STAGE_STARTTLS;
}

/* mx_fallback_decide - R11: move on, defer or bounce */
enum mx_action
mx_fallback_decide(enum mx_fallback_preset preset, enum mx_stage stage,
		   enum mx_failure_kind kind, int code, bool more_hosts)
{
	bool	permanent;

	switch (kind) {
	case MX_FAIL_NONE:
		return MX_ACTION_DONE;
	case MX_FAIL_CONNECT:
		/* never connected: always the next address, whatever the preset */
		return more_hosts ? MX_ACTION_MOVE_ON : MX_ACTION_DEFER;
	case MX_FAIL_LOCAL:
		return MX_ACTION_DEFER;
	case MX_FAIL_LOST:
	case MX_FAIL_PROTOCOL:
		code = 451;		/* RFC 5321 3.8 */
		break;
	case MX_FAIL_TLS:
		code = 454;		/* this host cannot do what we require */
		break;
	case MX_FAIL_REPLY:
		break;
	}
	permanent = code >= 500 && code <= 599 && !session_stage(stage);
	if (permanent)
		return MX_ACTION_BOUNCE;
	if (!more_hosts)
		return MX_ACTION_DEFER;
	switch (preset) {
	case MX_FALLBACK_POSTFIX:
		return MX_ACTION_MOVE_ON;
	case MX_FALLBACK_GREETING:
		return session_stage(stage) ? MX_ACTION_MOVE_ON : MX_ACTION_DEFER;
	case MX_FALLBACK_QMAIL:
		return MX_ACTION_DEFER;
	}
	return MX_ACTION_DEFER;
}

/* mx_failure_is_host_problem - failures of the host, not of a recipient (R13) */
bool
mx_failure_is_host_problem(enum mx_stage stage, enum mx_failure_kind kind, int code)
{
	switch (kind) {
	case MX_FAIL_CONNECT:
	case MX_FAIL_LOST:
	case MX_FAIL_PROTOCOL:
	case MX_FAIL_TLS:
		return true;
	case MX_FAIL_REPLY:
		/* 421 at any stage: the server is closing the session (RFC 5321 3.8) */
		return code == 421 || (session_stage(stage) && code >= 400);
	default:
		return false;
	}
}
