/*
 * mail_order_bot on PLBA: the seed's example application as a module.
 *
 * The seed's MailPollingWorker is PLBA's built-in imap-poller (see
 * plba.yml here): it publishes one task per new mail to the "emails"
 * queue.  This module brings the rest:
 *
 *   email-processor  (EmailProcessingWorker, concurrency 3) turns each
 *                    mail into an order;
 *   mail-faker       makes up mails on a timer instead of reading a
 *                    mailbox, for the demo and for tests without an IMAP
 *                    server.
 *
 * The workers only orchestrate: reading mail bodies is mail.c's job and
 * recording orders is orders.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <plba/plba.h>

#include "mail.h"
#include "orders.h"

/* The application's own section, read once per process. */
struct app_config {
	const char	*orders_file;
	uint64_t	 poll_interval_ms;
	long long	 batch;
	long long	 limit;		/* stop producing after this many; 0: never */
};

static int
read_config(plba_worker *w, struct app_config *c)
{
	const plba_node *app = plba_worker_section(w, "mail_order_bot");
	const plba_node *own = plba_worker_config(w);
	int rc;

	if ((rc = plba_node_string(app, "orders_file", "orders.jsonl",
	    &c->orders_file)) != PLBA_OK ||
	    (rc = plba_node_duration(own, "poll_interval", 1000,
	    &c->poll_interval_ms)) != PLBA_OK ||
	    (rc = plba_node_int(own, "batch", 5, &c->batch)) != PLBA_OK ||
	    (rc = plba_node_int(own, "limit", 0, &c->limit)) != PLBA_OK) {
		fprintf(stderr, "mail_order_bot: configuration: %s\n",
		    plba_strerror(rc));
		return -1;
	}
	return 0;
}

/* --- mail-faker: mails without a mailbox ---------------------------------------------------- */

static char *
mail_task(const char *id, const char *body)
{
	cJSON *p = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(p, "message_id", id);
	cJSON_AddStringToObject(p, "from", "customer@example.org");
	cJSON_AddStringToObject(p, "subject", "Order");
	cJSON_AddStringToObject(p, "body", body);
	s = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	return s;
}

static int
faker_start(plba_worker *w, void *arg)
{
	struct app_config c;
	char id[128], body[512], *task;
	plba_span *span;
	unsigned long seq = 0;
	long long i;
	int rc;

	(void)arg;
	if (read_config(w, &c) == -1)
		return 1;
	do {
		plba_worker_set_status(w, PLBA_STATUS_BUSY);
		for (i = 0; i < c.batch && (c.limit == 0 || (long long)seq < c.limit);
		    i++, seq++) {
			mail_fake(seq, plba_worker_instance(w), id, sizeof(id),
			    body, sizeof(body));
			if ((task = mail_task(id, body)) == NULL)
				return 1;
			/* One trace per mail, from here to its order; the
			 * publish inside the span carries it along. */
			span = plba_trace_start(w, "mail discovered");
			plba_span_set_str(span, "mail.message_id", id);
			/* Waits while the queue is full: back-pressure. */
			rc = plba_publish_async(w, "emails", "mail", task);
			if (rc != PLBA_OK)
				plba_span_error(span, "publish: %s", plba_strerror(rc));
			plba_span_end(span);
			free(task);
			if (rc != PLBA_OK) {
				plba_worker_set_health(w, PLBA_HEALTH_DEGRADED,
				    plba_strerror(rc));
				break;
			}
		}
		if (plba_publish_flush(w) == PLBA_OK)
			plba_worker_set_health(w, PLBA_HEALTH_OK, NULL);
		plba_worker_set_status(w, PLBA_STATUS_IDLE);
	} while (!plba_worker_sleep(w, c.poll_interval_ms));
	return 0;
}

static const struct plba_worker_ops faker = { .start = faker_start };

/* --- EmailProcessingWorker ------------------------------------------------ */

static struct orders *orders;

static enum plba_task_result
process_mail(plba_worker *w, plba_task *t, void *arg)
{
	struct app_config c;
	struct mail m = { 0 };
	struct order o;
	plba_span *span;
	cJSON *p, *v;
	char err[256];
	int rc;

	(void)arg;
	if (orders == NULL) {
		if (read_config(w, &c) == -1 ||
		    (orders = orders_open(c.orders_file)) == NULL) {
			plba_task_error(t, "cannot open the order file");
			return PLBA_TASK_RETRY;
		}
	}
	if ((p = cJSON_Parse(plba_task_payload(t))) == NULL) {
		plba_task_error(t, "payload is not JSON");
		return PLBA_TASK_FAIL;
	}
	if (cJSON_IsString(v = cJSON_GetObjectItem(p, "message_id")))
		snprintf(m.message_id, sizeof(m.message_id), "%s", v->valuestring);
	if (cJSON_IsString(v = cJSON_GetObjectItem(p, "from")))
		snprintf(m.from, sizeof(m.from), "%s", v->valuestring);
	v = cJSON_GetObjectItem(p, "body");
	m.body = cJSON_IsString(v) ? v->valuestring : "";
	/* The business steps, inside the span libplba opened for the task. */
	span = plba_span_start(w, "mail parsed");
	plba_span_set_str(span, "mail.message_id", m.message_id);
	rc = mail_parse_order(&m, &o, err, sizeof(err));
	cJSON_Delete(p);
	if (rc == -1) {
		plba_span_error(span, "%s", err);
		plba_span_end(span);
		/* A malformed mail will not get better: dead-letter it. */
		plba_task_error(t, "%s", err);
		return PLBA_TASK_FAIL;
	}
	plba_span_set_int(span, "order.lines", (long long)o.nlines);
	plba_span_end(span);
	span = plba_span_start(w, "order created");
	rc = orders_record(orders, &o);
	plba_span_set_bool(span, "order.duplicate", rc == 0);
	/* A trace message: what a reader of the trace wants to know here. */
	if (rc == 0)
		plba_trace_message(w, "already recorded: this mail was seen before");
	else if (rc == 1)
		plba_trace_message(w, "recorded, %zu line%s", o.nlines,
		    o.nlines == 1 ? "" : "s");
	if (rc == -1) {
		plba_span_error(span, "cannot record the order");
		plba_span_end(span);
		plba_task_error(t, "cannot record the order");
		return PLBA_TASK_RETRY;
	}
	plba_span_end(span);
	return PLBA_TASK_OK;
}

/* --- the module ------------------------------------------------------------ */

static enum plba_health
order_store_health(char *detail, size_t len, void *arg)
{
	(void)arg;
	if (orders == NULL)
		return PLBA_HEALTH_OK;
	snprintf(detail, len, "order file open");
	return PLBA_HEALTH_OK;
}

static int
init(plba_registry *reg)
{
	int rc;

	if ((rc = plba_register_queue(reg, "emails", 10000, 5)) != PLBA_OK ||
	    (rc = plba_register_worker(reg, "mail-faker", &faker, NULL)) != PLBA_OK ||
	    (rc = plba_register_queue_worker(reg, "email-processor",
	    process_mail, NULL)) != PLBA_OK ||
	    (rc = plba_register_health(reg, "order-store", order_store_health,
	    NULL)) != PLBA_OK)
		return rc;
	return PLBA_OK;
}

PLBA_MODULE("mail_order_bot", init);
