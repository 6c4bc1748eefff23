/* Inside the menus module: what spec.c and menu.c share. */
#ifndef SB_MENUS_MENUS_PRIVATE_H
#define SB_MENUS_MENUS_PRIVATE_H

#include "menus/menus.h"

#define SB_MENU_SAY_MAX 1000
#define SB_MENU_TIMEOUT_DEFAULT_MS 5000
#define SB_MENU_DIGIT_TIMEOUT_DEFAULT_MS 3000
#define SB_MENU_RETRIES_DEFAULT 2
#define SB_MENU_NO_INPUT_DEFAULT "Sorry, I didn't get that."
#define SB_MENU_NO_MATCH_DEFAULT "Sorry, that isn't one of the choices."

/* One of 0-9 * #. */
bool sb_menu_key_ok(const char *key);

#endif
