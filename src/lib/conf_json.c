#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf_json.h"

static cJSON *
scalar(const struct conf_node *n)
{
	long long i;
	bool b;
	char *end;
	double d;

	if (!n->plain)
		return cJSON_CreateString(n->value);
	if (conf_is_null(n))
		return cJSON_CreateNull();
	if (conf_parse_int(n->value, &i) == 0)
		return cJSON_CreateNumber((double)i);
	if (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0) {
		conf_parse_bool(n->value, &b);
		return cJSON_CreateBool(b);
	}
	d = strtod(n->value, &end);
	if (*n->value != '\0' && *end == '\0' && end != n->value &&
	    strspn(n->value, "0123456789.eE+-") == strlen(n->value))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(n->value);
}

cJSON *
conf_to_cjson(const struct conf_node *n)
{
	cJSON *out, *item;
	size_t i;

	if (n == NULL)
		return cJSON_CreateNull();
	switch (n->type) {
	case CONF_SCALAR:
		return scalar(n);
	case CONF_MAP:
		if ((out = cJSON_CreateObject()) == NULL)
			return NULL;
		for (i = 0; i < n->n; i++) {
			if ((item = conf_to_cjson(n->items[i])) == NULL) {
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToObject(out, n->keys[i], item);
		}
		return out;
	case CONF_SEQ:
		if ((out = cJSON_CreateArray()) == NULL)
			return NULL;
		for (i = 0; i < n->n; i++) {
			if ((item = conf_to_cjson(n->items[i])) == NULL) {
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToArray(out, item);
		}
		return out;
	}
	return NULL;
}

char *
conf_to_json(const struct conf_node *n)
{
	cJSON *j = conf_to_cjson(n);
	char *s;

	if (j == NULL)
		return NULL;
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}
