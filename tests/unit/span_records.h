/*
 * Span records for the tests of the trace file's fast way (test_span_text)
 * and of the exporter (test_otlp): the ids of the W3C Trace Context
 * examples and a valid root span, extra members spliced in before its
 * times.
 */
#ifndef PLBA_TEST_SPAN_RECORDS_H
#define PLBA_TEST_SPAN_RECORDS_H

#define TID	"0af7651916cd43dd8448eb211c80319c"
#define SID	"b7ad6b7169203331"
#define PID	"00f067aa0ba902b7"
#define TIMES	"\"start_ns\":\"1700000000000000000\"," \
		"\"end_ns\":\"1700000000500000000\""
#define REC(extra) "{\"trace_id\":\"" TID "\",\"span_id\":\"" SID "\"," \
		"\"name\":\"mail.parse\"," extra TIMES "}"

#endif
