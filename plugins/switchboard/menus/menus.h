/* Menus the phone way: "for sales, press or say 1".  A gather speaks a
 * prompt, then takes the caller's answer from the keypad (DTMF: RFC 4733,
 * SIP INFO, Media Streams and ConversationRelay all end up as digits) or
 * by voice, with a timeout and retries, and says what came of it: an
 * option of a menu, or a number the caller keyed in.
 *
 * This module only decides.  Its driver (the AI agent, agent/agent_gather.c)
 * speaks what it is told to, feeds it keys, final transcripts and the
 * clock, and carries out the chosen action (a queue, a tool, a submenu,
 * the AI agent, the end of the call).  One gather per driver at a time;
 * a gather is used on one thread.
 *
 * Where a gather comes from:
 *   - [agent] menu (inline, or the path of a JSON file) or a room's agent
 *     config "menu": the call starts with it, before the agent's greeting;
 *   - the `gather` tool the model may call when [agent] gather_tool is on:
 *     its arguments are a gather (without actions), its result the
 *     outcome below.
 *
 * A gather (JSON object):
 *   prompt            1..1000 characters: what is said first (required)
 *   input             "dtmf", "speech" or "dtmf speech" (default)
 *   timeout_ms        500..60000, default 5000: no input this long after
 *                     the prompt has been played is "no_input"
 *   digit_timeout_ms  500..30000, default 3000: a number ends this long
 *                     after its last key
 *   retries           0..5, default 2: the prompt again after a no_input
 *                     or a no_match, before giving up
 *   no_input          ≤ 500 characters said before a retry (a default)
 *   no_match          ≤ 500 characters, the same for a wrong choice
 *   options           a menu: 1..12 options (below).  Without options the
 *                     gather collects a number:
 *   max_digits        1..32, default 16; min_digits 1..max_digits, default 1
 *   finish_on_key     "#" (default), "*" or "": the key that ends a number
 *   variable          [a-z0-9_]{1,32}: the call's {{variable}} the result
 *                     becomes (the digits, or the option's value)
 *   then              an action once a number has been collected
 *   otherwise         an action once the retries have run out (default:
 *                     the AI agent takes the call)
 * An option:
 *   key               one of 0-9 * #, unique in its menu
 *   words             up to 16 phrases of ≤ 64 characters a caller may say
 *                     for it ("sales", "buy something"); saying the key
 *                     itself ("one", "1", "option one") always works
 *   value             ≤ 64 characters for `variable` (default: the key)
 *   + an action
 * An action (an object; at most one of queue, tool, menu, end_call):
 *   say               ≤ 1000 characters said first
 *   queue             [A-Za-z0-9_.-]{1,64}: a human takes the call; it
 *                     waits in the console's queue with this name
 *   tool              a tool's name; argument: the parameter that gets
 *                     the digits (a number's), arguments: fixed others
 *   menu              a gather to go on with (4 levels at most)
 *   end_call          true: the call ends (after `say`)
 *   agent             true (what no action means): the AI agent goes on
 *
 * Speech: a final transcript matches an option when it contains one of
 * its words (whole words, any case) or says its key; a number is read
 * from digits and digit words ("one two three", "oh", "zero"). */
#ifndef SB_MENUS_MENUS_H
#define SB_MENUS_MENUS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

/* The model's tool: a name no tool of the business's may take. */
#define SB_GATHER_TOOL "gather"

#define SB_MENU_MAX_DEPTH 4
#define SB_MENU_MAX_OPTIONS 12
#define SB_MENU_MAX_DIGITS 32

/* false with *error (g_free) naming the place ("options[1].key: one of
 * 0-9 * #").  actions: whether the gather may carry actions (a config's
 * menu) or not (the model's gather tool). */
bool sb_menu_check(json_t *gather, bool actions, char **error);

/* The JSON Schema of the gather tool's arguments (a gather without
 * actions), for the model.  New reference. */
json_t *sb_menu_tool_parameters(void);

typedef struct sb_menu sb_menu;

/* What the driver does next; fields are borrowed from the menu and valid
 * until its next call. */
typedef struct sb_menu_step {
	/* Say this now, in place of whatever is being said (NULL: nothing). */
	const char *say;
	/* The gather is over: outcome says how ({"status": "matched" |
	 * "collected" | "no_input" | "no_match", "input": "dtmf" | "speech",
	 * "digits"?, "speech"?, "key"?, "value"?, "attempts"}), action is the
	 * chosen option, the `then` or the `otherwise` (NULL: none given). */
	bool done;
	json_t *outcome;
	json_t *action;
} sb_menu_step;

/* A gather of a checked spec (borrowed: it must outlive the menu). */
sb_menu *sb_menu_new(json_t *gather);
void sb_menu_free(sb_menu *m);

/* The gather it runs (borrowed). */
json_t *sb_menu_spec(const sb_menu *m);
/* The first step: the prompt. */
sb_menu_step sb_menu_start(sb_menu *m);
/* What the driver said has been played out (now, monotonic µs): the
 * wait for input starts here. */
void sb_menu_played(sb_menu *m, int64_t now_us);
/* A key ('0'-'9', '*', '#', 'A'-'D'); keys the gather does not take
 * (input "speech") are ignored. */
sb_menu_step sb_menu_key(sb_menu *m, char key, int64_t now_us);
/* A final transcript of the caller.  *taken: whether the gather took it
 * (false with input "dtmf": the driver does what it would without one). */
sb_menu_step sb_menu_speech(sb_menu *m, const char *text, int64_t now_us, bool *taken);
/* The clock: timeouts. */
sb_menu_step sb_menu_tick(sb_menu *m, int64_t now_us);
/* Whether a caller's voice may cut the prompt short (input has speech). */
bool sb_menu_hears_speech(const sb_menu *m);

/* What a finished gather's action asks of its driver, read once here so
 * that every driver (the agent, ConversationRelay) does the same. */
typedef enum {
	SB_MENU_DO_AGENT = 0, /* the AI agent takes the call (no action given) */
	SB_MENU_DO_SUBMENU,
	SB_MENU_DO_QUEUE,
	SB_MENU_DO_TOOL,
	SB_MENU_DO_END_CALL,
} sb_menu_do;

typedef struct sb_menu_action {
	sb_menu_do what;
	const char *say;   /* said first, or NULL (borrowed from the action) */
	json_t *submenu;   /* SUBMENU: the gather to go on with (borrowed) */
	const char *tool;  /* TOOL: its name (borrowed) */
	json_t *arguments; /* TOOL: the action's fixed arguments with the
	                      outcome's value as `argument` (owned) */
	json_t *handoff;   /* QUEUE: the hand-off's details {"reason": "menu",
	                      "queue", "menu": outcome} (owned) */
	json_t *variables; /* {variable: value} for the call's variables when
	                      the gather names one and has a value, else NULL
	                      (owned) */
} sb_menu_action;

/* step must be done; m is the gather that produced it.  Borrowed fields
 * live as long as the spec tree the action is in. */
sb_menu_action sb_menu_action_of(const sb_menu *m, const sb_menu_step *step);
void sb_menu_action_clear(sb_menu_action *a);

/* The digits a caller said ("one two three" → "123", "it's 4 5" → "45"):
 * g_free, "" when none. */
char *sb_menu_spoken_digits(const char *text);

#endif
