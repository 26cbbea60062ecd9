/*
 * Span records through cJSON, the slow ways of both transports: a record
 * parsed and checked as an OTLP span would be, strings made valid UTF-8,
 * and records grouped into one OTLP/HTTP JSON request.  Records in the
 * form libplba prints never come here on their way to a file
 * (span_text.c); every OTLP batch does.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "otlp.h"
#include "proto.h"
#include "trace_export.h"
#include "utf8.h"

/*
 * cJSON copies bytes through unchecked, and a collector decoding strictly
 * would reject the whole batch for one worker's bad string.
 */
bool
otlp_add_string(cJSON *o, const char *key, const char *s)
{
	char *clean;
	bool ok, nomem;

	if ((clean = utf8_clean(s, &nomem)) == NULL)
		return !nomem && cJSON_AddStringToObject(o, key, s) != NULL;
	ok = cJSON_AddStringToObject(o, key, clean) != NULL;
	free(clean);
	return ok;
}

bool
otlp_clean_tree(cJSON *v)
{
	char *clean;
	bool nomem;

	for (; v != NULL; v = v->next) {
		if (v->string != NULL && !(v->type & cJSON_StringIsConst)) {
			if ((clean = utf8_clean(v->string, &nomem)) != NULL) {
				free(v->string);
				v->string = clean;
			} else if (nomem)
				return false;
		}
		if (cJSON_IsString(v) && v->valuestring != NULL) {
			if ((clean = utf8_clean(v->valuestring, &nomem)) != NULL) {
				free(v->valuestring);
				v->valuestring = clean;
			} else if (nomem)
				return false;
		}
		if (v->child != NULL && !otlp_clean_tree(v->child))
			return false;
	}
	return true;
}

/* A hex id of n digits, not all zero; copied lowercase into out[n + 1]. */
static bool
hex_id(const cJSON *v, size_t n, char *out)
{
	const char *s;
	bool nonzero = false;
	size_t i;

	if (!cJSON_IsString(v) || (s = v->valuestring) == NULL ||
	    strlen(s) != n)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			out[i] = s[i];
		else if (s[i] >= 'a' && s[i] <= 'f')
			out[i] = s[i];
		else if (s[i] >= 'A' && s[i] <= 'F')
			out[i] = (char)(s[i] - 'A' + 'a');
		else
			return false;
		if (s[i] != '0')
			nonzero = true;
	}
	out[n] = '\0';
	return nonzero;
}

/* A time in ns since the epoch as a decimal string; normalised into out. */
static bool
nanos(const cJSON *v, char out[21])
{
	const char *s;
	uint64_t x = 0;
	size_t i;

	if (!cJSON_IsString(v) || (s = v->valuestring) == NULL ||
	    s[0] == '\0' || strlen(s) > 20)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	snprintf(out, 21, "%" PRIu64, x);
	return true;
}

/* An AnyValue; NULL for null (left out) or out of memory. */
static cJSON *
any_value(const cJSON *v)
{
	cJSON *o;
	char num[32], *text;
	double d;
	bool ok;

	if (cJSON_IsNull(v) || cJSON_IsInvalid(v) ||
	    (o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_IsString(v))
		ok = otlp_add_string(o, "stringValue", v->valuestring);
	else if (cJSON_IsBool(v))
		ok = cJSON_AddBoolToObject(o, "boolValue", cJSON_IsTrue(v)) != NULL;
	else if (cJSON_IsRaw(v))	/* an integer's digits: exact_ints() */
		ok = cJSON_AddStringToObject(o, "intValue", v->valuestring) != NULL;
	else if (cJSON_IsNumber(v)) {
		/* JSON has one number type: whole ones in int64 range are ints. */
		d = v->valuedouble;
		if (isfinite(d) && trunc(d) == d && d >= -9.2e18 && d <= 9.2e18) {
			snprintf(num, sizeof(num), "%lld", (long long)d);
			ok = cJSON_AddStringToObject(o, "intValue", num) != NULL;
		} else
			ok = cJSON_AddNumberToObject(o, "doubleValue", d) != NULL;
	} else {
		/* An object or array: kept as its JSON text. */
		ok = (text = cJSON_PrintUnformatted(v)) != NULL &&
		    otlp_add_string(o, "stringValue", text);
		free(text);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool
add_keyvalue(cJSON *array, const char *key, cJSON *value)
{
	cJSON *kv;

	if (value == NULL)
		return false;
	if ((kv = cJSON_CreateObject()) == NULL ||
	    !otlp_add_string(kv, "key", key)) {
		cJSON_Delete(kv);
		cJSON_Delete(value);
		return false;
	}
	cJSON_AddItemToObject(kv, "value", value);
	cJSON_AddItemToArray(array, kv);
	return true;
}

/* Adds "attributes" from a record's attribute object, if it has any. */
static bool
add_attributes(cJSON *o, const cJSON *attrs)
{
	const cJSON *a;
	cJSON *array, *v;

	if (!cJSON_IsObject(attrs) || attrs->child == NULL)
		return true;
	if ((array = cJSON_AddArrayToObject(o, "attributes")) == NULL)
		return false;
	cJSON_ArrayForEach(a, attrs) {
		if (a->string == NULL || cJSON_IsNull(a))
			continue;
		if ((v = any_value(a)) == NULL || !add_keyvalue(array, a->string, v))
			return false;
	}
	return true;
}

static int
span_kind(const cJSON *k)
{
	static const char *const names[] = {
		"unspecified", "internal", "server", "client", "producer",
		"consumer"
	};
	int i;

	if (k == NULL)
		return 1;
	if (cJSON_IsString(k))
		for (i = 0; i < 6; i++)
			if (strcmp(k->valuestring, names[i]) == 0)
				return i;
	return 0;
}

static int
status_code(const cJSON *c)
{
	if (cJSON_IsString(c)) {
		if (strcmp(c->valuestring, "ok") == 0)
			return 1;
		if (strcmp(c->valuestring, "error") == 0)
			return 2;
	}
	return 0;
}

static bool
add_events(cJSON *span, const cJSON *events)
{
	const cJSON *e, *name;
	cJSON *array = NULL, *oe;
	char t[21];

	if (!cJSON_IsArray(events))
		return true;
	cJSON_ArrayForEach(e, events) {
		name = cJSON_GetObjectItemCaseSensitive(e, "name");
		if (!cJSON_IsString(name) || name->valuestring[0] == '\0' ||
		    !nanos(cJSON_GetObjectItemCaseSensitive(e, "time_ns"), t))
			continue;
		if (array == NULL &&
		    (array = cJSON_AddArrayToObject(span, "events")) == NULL)
			return false;
		if ((oe = cJSON_CreateObject()) == NULL)
			return false;
		cJSON_AddItemToArray(array, oe);
		if (!cJSON_AddStringToObject(oe, "timeUnixNano", t) ||
		    !otlp_add_string(oe, "name", name->valuestring) ||
		    !add_attributes(oe,
		    cJSON_GetObjectItemCaseSensitive(e, "attributes")))
			return false;
	}
	return true;
}

cJSON *
otlp_span(const cJSON *rec)
{
	char tid[33], sid[17], pid[17], start[21], end[21];
	const cJSON *parent, *name, *status, *msg;
	cJSON *span, *st;
	bool root;

	if (!cJSON_IsObject(rec) ||
	    !hex_id(cJSON_GetObjectItemCaseSensitive(rec, "trace_id"), 32, tid) ||
	    !hex_id(cJSON_GetObjectItemCaseSensitive(rec, "span_id"), 16, sid))
		return NULL;
	parent = cJSON_GetObjectItemCaseSensitive(rec, "parent_span_id");
	root = parent == NULL || cJSON_IsNull(parent) ||
	    (cJSON_IsString(parent) && parent->valuestring[0] == '\0');
	if (!root && !hex_id(parent, 16, pid))
		return NULL;
	name = cJSON_GetObjectItemCaseSensitive(rec, "name");
	if (!cJSON_IsString(name) || name->valuestring[0] == '\0' ||
	    !nanos(cJSON_GetObjectItemCaseSensitive(rec, "start_ns"), start) ||
	    !nanos(cJSON_GetObjectItemCaseSensitive(rec, "end_ns"), end))
		return NULL;

	if ((span = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!cJSON_AddStringToObject(span, "traceId", tid) ||
	    !cJSON_AddStringToObject(span, "spanId", sid) ||
	    (!root && !cJSON_AddStringToObject(span, "parentSpanId", pid)) ||
	    !otlp_add_string(span, "name", name->valuestring) ||
	    !cJSON_AddNumberToObject(span, "kind",
	    span_kind(cJSON_GetObjectItemCaseSensitive(rec, "kind"))) ||
	    !cJSON_AddStringToObject(span, "startTimeUnixNano", start) ||
	    !cJSON_AddStringToObject(span, "endTimeUnixNano", end) ||
	    !add_attributes(span,
	    cJSON_GetObjectItemCaseSensitive(rec, "attributes")) ||
	    !add_events(span, cJSON_GetObjectItemCaseSensitive(rec, "events")))
		goto fail;
	status = cJSON_GetObjectItemCaseSensitive(rec, "status");
	msg = cJSON_GetObjectItemCaseSensitive(status, "message");
	if ((st = cJSON_AddObjectToObject(span, "status")) == NULL ||
	    !cJSON_AddNumberToObject(st, "code", status_code(
	    cJSON_GetObjectItemCaseSensitive(status, "code"))) ||
	    (cJSON_IsString(msg) && msg->valuestring[0] != '\0' &&
	    !otlp_add_string(st, "message", msg->valuestring)))
		goto fail;
	return span;
fail:
	cJSON_Delete(span);
	return NULL;
}

/* Digits of an integer in int64 range, as JSON writes one. */
static bool
int64_literal(const char *v, size_t len)
{
	size_t neg = len > 0 && v[0] == '-', n = len - neg, i;

	if (n == 0 || n > 19 || (n > 1 && v[neg] == '0'))
		return false;
	for (i = neg; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return n < 19 || memcmp(v + neg, neg ? "9223372036854775808" :
	    "9223372036854775807", 19) <= 0;
}

/*
 * cJSON reads every number as a double, which holds integers exactly only
 * to 2^53: an attribute past that is taken again from the record's text,
 * as a raw item of its digits, which cJSON prints as they are and
 * any_value() sends as an intValue.  Only the span's own attributes: the
 * text is found by top-level member, and events are an array.
 */
static void
exact_ints(cJSON *rec, const char *s, size_t len)
{
	cJSON *attrs = cJSON_GetObjectItemCaseSensitive(rec, "attributes"), *a;
	const char *text, *v;
	size_t tlen, vlen;
	char *digits;

	if (!cJSON_IsObject(attrs) ||
	    json_member_text(s, len, "attributes", &text, &tlen) == -1)
		return;
	cJSON_ArrayForEach(a, attrs) {
		if (!cJSON_IsNumber(a) || a->string == NULL ||
		    fabs(a->valuedouble) < 9007199254740992.0 ||
		    json_member_text(text, tlen, a->string, &v, &vlen) == -1 ||
		    !int64_literal(v, vlen) ||
		    strtod(v, NULL) != a->valuedouble ||
		    (digits = strndup(v, vlen)) == NULL)
			continue;
		a->type = cJSON_Raw;
		a->valuestring = digits;
	}
}

cJSON *
otlp_parse_record(const char *s, size_t len)
{
	const char *end = NULL;
	cJSON *o;

	/* By length: a record may be the start of a longer text (a trace
	 * frame's, when the frame went on after it). */
	if (s == NULL ||
	    (o = cJSON_ParseWithLengthOpts(s, len, &end, false)) == NULL)
		return NULL;
	while (end < s + len && (*end == ' ' || *end == '\t' ||
	    *end == '\n' || *end == '\r'))
		end++;
	if (end != s + len) {
		cJSON_Delete(o);
		return NULL;
	}
	exact_ints(o, s, len);
	return o;
}

char *
otlp_normal_record(const char *s, size_t len, bool *invalid)
{
	cJSON *o, *span;
	char *text = NULL;

	*invalid = false;
	if ((o = otlp_parse_record(s, len)) == NULL ||
	    (span = otlp_span(o)) == NULL) {
		cJSON_Delete(o);
		*invalid = true;
		return NULL;
	}
	cJSON_Delete(span);
	/* Every one: a child may send the member twice. */
	while (cJSON_GetObjectItemCaseSensitive(o, "resource") != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(o, "resource");
	if (otlp_clean_tree(o->child))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

struct group {
	const char	*worker;
	int		 instance;
	cJSON		*spans;
};

static bool
add_attribute(cJSON *attrs, const char *key, const char *type, const char *s)
{
	cJSON *v;

	if ((v = cJSON_CreateObject()) == NULL || !otlp_add_string(v, type, s)) {
		cJSON_Delete(v);
		return false;
	}
	return add_keyvalue(attrs, key, v);
}

/* A resourceSpans for one (worker, instance); *spans gets its span list. */
static bool
add_resource_spans(cJSON *list, const char *service, const char *worker,
    int instance, cJSON **spans)
{
	cJSON *rs, *res, *attrs, *ss, *scope, *sc;
	char num[16];

	snprintf(num, sizeof(num), "%d", instance);
	if ((rs = cJSON_CreateObject()) == NULL)
		return false;
	cJSON_AddItemToArray(list, rs);
	if ((res = cJSON_AddObjectToObject(rs, "resource")) == NULL ||
	    (attrs = cJSON_AddArrayToObject(res, "attributes")) == NULL ||
	    !add_attribute(attrs, "service.name", "stringValue", service) ||
	    !add_attribute(attrs, "worker", "stringValue", worker) ||
	    !add_attribute(attrs, "instance", "intValue", num) ||
	    (ss = cJSON_AddArrayToObject(rs, "scopeSpans")) == NULL ||
	    (scope = cJSON_CreateObject()) == NULL)
		return false;
	cJSON_AddItemToArray(ss, scope);
	if ((sc = cJSON_AddObjectToObject(scope, "scope")) == NULL ||
	    !cJSON_AddStringToObject(sc, "name", "plba") ||
	    !cJSON_AddStringToObject(sc, "version", PACKAGE_VERSION) ||
	    (*spans = cJSON_AddArrayToObject(scope, "spans")) == NULL)
		return false;
	return true;
}

char *
otlp_encode_parsed(const char *service, cJSON *const *recs,
    const char *const *workers, const int *instances, size_t n,
    size_t *nvalid)
{
	struct group *groups = NULL;
	size_t ngroups = 0, i, g, valid = 0;
	cJSON *root, *list, *span;
	const char *w;
	char *out = NULL;
	int inst;

	if ((root = cJSON_CreateObject()) == NULL ||
	    (list = cJSON_AddArrayToObject(root, "resourceSpans")) == NULL ||
	    (n > 0 && (groups = calloc(n, sizeof(*groups))) == NULL))
		goto done;
	for (i = 0; i < n; i++) {
		if (recs[i] == NULL || (span = otlp_span(recs[i])) == NULL)
			continue;
		w = workers != NULL && workers[i] != NULL ? workers[i] :
		    TRACE_EXPORT_MASTER;
		inst = instances != NULL ? instances[i] : -1;
		for (g = 0; g < ngroups; g++)
			if (groups[g].instance == inst &&
			    strcmp(groups[g].worker, w) == 0)
				break;
		if (g == ngroups) {
			groups[g].worker = w;
			groups[g].instance = inst;
			if (!add_resource_spans(list, service, w, inst,
			    &groups[g].spans)) {
				cJSON_Delete(span);
				goto done;
			}
			ngroups++;
		}
		cJSON_AddItemToArray(groups[g].spans, span);
		valid++;
	}
	out = cJSON_PrintUnformatted(root);
done:
	cJSON_Delete(root);
	free(groups);
	if (nvalid != NULL)
		*nvalid = out != NULL ? valid : 0;
	return out;
}

char *
otlp_encode(const char *service_name, const char *const *records,
    const char *const *workers, const int *instances, size_t n)
{
	cJSON **recs = NULL;
	char *out;
	size_t i;

	if (n > 0 && (recs = calloc(n, sizeof(*recs))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		recs[i] = records[i] != NULL ?
		    otlp_parse_record(records[i], strlen(records[i])) : NULL;
	out = otlp_encode_parsed(service_name, recs, workers, instances, n, NULL);
	for (i = 0; i < n; i++)
		cJSON_Delete(recs[i]);
	free(recs);
	return out;
}
