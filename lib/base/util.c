/*
 * Helpers.  explicit_bzero (glibc) rather than OPENSSL_cleanse here, because
 * the front binary must not link libcrypto.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"

void
kmfa_freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

void
kmfa_freezero_str(char *s)
{
	if (s != NULL)
		kmfa_freezero(s, strlen(s));
}

int
kmfa_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	*out = NULL;
	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		*out = NULL;
	return n;
}

const char *
kmfa_printable(char *dst, size_t dstlen, const char *src)
{
	size_t i = 0;

	if (dstlen == 0)
		return dst;
	if (src == NULL)
		src = "";
	for (; src[i] != '\0' && i + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c > 0x7e || c == '\'' || c == '"' ||
		    c == '\\') ? '?' : (char)c;
	}
	dst[i] = '\0';
	if (src[i] != '\0' && dstlen >= 4)
		memcpy(dst + dstlen - 4, "...", 4);
	return dst;
}

void
kmfa_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int64_t
kmfa_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec;
}

/*
 * Civil date from a day count, in the proleptic Gregorian calendar, by
 * 400-year eras counted from 0000-03-01 (so the leap day ends a year).
 * Done by hand because gmtime_r calls tzset, which reads /etc/localtime on
 * every hot-path run for a UTC answer that needs no time zone.
 */
int
kmfa_rfc3339(int64_t t, char out[21])
{
	int64_t days, secs, era, doe, yoe, doy, mp, day, mon, year;
	int n;

	if (t < 0 || t > INT64_C(253402300799))	/* 9999-12-31T23:59:59Z */
		return -1;
	days = t / 86400 + 719468;
	secs = t % 86400;
	era = days / 146097;
	doe = days - era * 146097;			/* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);	/* [0, 365] */
	mp = (5 * doy + 2) / 153;			/* March is 0 */
	day = doy - (153 * mp + 2) / 5 + 1;
	mon = mp < 10 ? mp + 3 : mp - 9;
	year = yoe + era * 400 + (mon <= 2);
	n = snprintf(out, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)year,
	    (int)mon, (int)day, (int)(secs / 3600), (int)(secs / 60 % 60),
	    (int)(secs % 60));
	return n == 20 ? 0 : -1;
}
