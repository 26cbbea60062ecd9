/* http-client: single-client latency of one URL, for bench/http.
 *
 *   http-client URL N [WARMUP [MAX_SECONDS]]
 *
 * Sends WARMUP (default 50) unmeasured GET requests, then N measured ones
 * (fewer when MAX_SECONDS, if given and not 0, run out first: n= says how
 * many were measured),
 * one after the other over one libcurl easy handle (so one keep-alive
 * connection: no connect per request).  Each sample is CLOCK_MONOTONIC
 * around curl_easy_perform(), the body read in full and thrown away.
 * Prints one line of key=value pairs (microseconds):
 *
 *   n=N p50_us= p90_us= p99_us= max_us= mean_us= bytes= non200= errors= connects=
 *
 * connects is how many connections libcurl opened, warm-up included (1 when
 * keep-alive held throughout).
 * Exit 0 when every request got an answer (whatever its status), 1 otherwise.
 *
 * Build: cc -O2 -o http-client http-client.c -lcurl
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t bytes;

static size_t
sink(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	bytes = bytes + sz * n;
	return sz * n;
}

static int
cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	long code, nconn, connects = 0;
	int64_t *lat, t0, sum = 0;
	int i, n, warm, non200 = 0, errors = 0;
	int64_t until = 0;
	CURLcode rc;
	CURL *c;

	if (argc < 3 || (n = atoi(argv[2])) <= 0) {
		fputs("usage: http-client URL N [WARMUP [MAX_SECONDS]]\n", stderr);
		return 2;
	}
	warm = argc > 3 ? atoi(argv[3]) : 50;
	if (argc > 4 && atof(argv[4]) > 0)
		until = now_ns() + (int64_t)(atof(argv[4]) * 1e9);
	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (c = curl_easy_init()) == NULL) {
		fputs("http-client: cannot set up libcurl\n", stderr);
		return 1;
	}
	curl_easy_setopt(c, CURLOPT_URL, argv[1]);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	for (i = -warm; i < n; i++) {
		t0 = now_ns();
		if (until != 0 && i > 0 && t0 > until) {
			n = i;
			break;
		}
		rc = curl_easy_perform(c);
		if (i >= 0)
			lat[i] = now_ns() - t0;
		if (rc != CURLE_OK) {
			if (errors++ == 0)
				fprintf(stderr, "http-client: %s\n",
				    curl_easy_strerror(rc));
			continue;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200 && i >= 0)
			non200++;
		if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS,
		    &nconn) == CURLE_OK)
			connects += nconn;
	}
	curl_easy_cleanup(c);
	for (i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
#define PCT(p) (lat[((size_t)n * (p) + 99) / 100 - 1] / 1000.0)
	printf("n=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f "
	    "mean_us=%.1f bytes=%zu non200=%d errors=%d connects=%ld\n",
	    n, n % 2 ? lat[n / 2] / 1000.0 : (lat[n / 2 - 1] + lat[n / 2]) / 2000.0,
	    PCT(90), PCT(99), lat[n - 1] / 1000.0, (double)sum / n / 1000.0,
	    bytes / (size_t)(n + warm), non200, errors, connects);
	return errors ? 1 : 0;
}
