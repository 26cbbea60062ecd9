/*
 * Span records through cJSON: parsed, checked as an OTLP span would be,
 * made valid UTF-8, and encoded as OTLP/HTTP JSON requests.  The record
 * format is trace_export.h's.
 */
#ifndef PLBA_MASTER_OTLP_H
#define PLBA_MASTER_OTLP_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Parses one record of len bytes; NULL unless it is exactly one JSON value.
 * An integer attribute of the span past 2^53, which a double would round,
 * keeps its digits as a raw item.
 */
cJSON	*otlp_parse_record(const char *s, size_t len);
/*
 * A record the slow way: parsed, checked as an OTLP span would be, without
 * a "resource" of its own, made valid UTF-8 and printed again, as the trace
 * file and GET /traces give it.  NULL when it is invalid (*invalid set) or
 * memory ran out.
 */
char	*otlp_normal_record(const char *s, size_t len, bool *invalid);
/*
 * The OTLP Span for a parsed record, or NULL if the record is invalid (or
 * memory ran out; either way the record is not exported).
 */
cJSON	*otlp_span(const cJSON *rec);
/* Adds a string member, invalid UTF-8 replaced by U+FFFD. */
bool	 otlp_add_string(cJSON *o, const char *key, const char *s);
/* Every key and string in a parsed tree made valid UTF-8.  False when
 * memory ran out. */
bool	 otlp_clean_tree(cJSON *v);

/*
 * Encodes n records, each with the worker and instance that sent it, into
 * one OTLP ExportTraceServiceRequest (OTLP/HTTP JSON encoding): records are
 * grouped by (worker, instance) into resourceSpans, in order of first
 * appearance, each with resource attributes service.name, worker and
 * instance and one scopeSpans whose scope is {name "plba", version}.  Ids
 * are lowercase hex (not base64), kinds and status codes integers, times
 * and intValue decimal strings, as OTLP JSON requires; a whole JSON number
 * becomes an intValue, any other a doubleValue, an object or array its JSON
 * text, and null is left out.  Invalid records are left out.  workers
 * NULL, or workers[i] NULL, means TRACE_EXPORT_MASTER; instances NULL
 * means -1 for all.  Returns a malloc'ed NUL-terminated
 * string the caller frees, or NULL when out of memory.
 */
char	*otlp_encode(const char *service_name, const char *const *records,
	    const char *const *workers, const int *instances, size_t n);
/* The same for records parsed already (NULL entries are invalid ones);
 * *nvalid, unless NULL, gets the number of spans in the request. */
char	*otlp_encode_parsed(const char *service_name, cJSON *const *records,
	    const char *const *workers, const int *instances, size_t n,
	    size_t *nvalid);

#endif
