/*
 * Configuration subtrees as JSON, for the welcome message: protocol
 * children in any language read their `config:` section from it.
 */
#ifndef PLBA_CONF_JSON_H
#define PLBA_CONF_JSON_H

#include <cjson/cJSON.h>

#include "conf.h"

/* Plain scalars that read as integers, decimals, booleans or null become
 * those JSON types; everything else is a string.  NULL on no memory. */
cJSON	*conf_to_cjson(const struct conf_node *);
/* The same, printed compactly; malloc'ed. */
char	*conf_to_json(const struct conf_node *);

#endif
