/*
 * test_printf.c - RtlFormatV against the host's snprintf, plus irqlab's own
 * conventions (%p without 0x) and truncation, and RtlMatchGlob (case-sensitive or not).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <irqlab/rtl.h>
#include "ktap.h"

/* Formats with both and compares text and return value. */
#define SAME(...)                                                                   \
    do {                                                                            \
        char a[128], b[128];                                                        \
        int na = RtlFormat(a, sizeof(a), __VA_ARGS__);                              \
        int nb = snprintf(b, sizeof(b), __VA_ARGS__);                               \
        EXPECT_STR(a, b);                                                           \
        EXPECT(na == nb);                                                           \
    } while (0)

int main(void)
{
    CASE("printf.integers") {
        SAME("%d %i %u", -42, 7, 4000000000u);
        SAME("%ld %lu %lld %llu", -1L, ~0UL, (long long)INT64_MIN, ~0ULL);
        SAME("%hd %hhu %zu", (short)-3, (unsigned char)255, (size_t)99);
        SAME("%d", 0);
    }
    CASE("printf.hex_octal") {
        SAME("%x %X %#x %#X %o %#o", 0xbeef, 0xbeef, 255, 255, 8, 8);
        SAME("%016llx|%08x|%#010x", 0xffffffff80001234ULL, 0x1eu, 0x1eu);
        SAME("%#x", 0);
    }
    CASE("printf.width_flags") {
        SAME("[%5d][%-5d][%05d][%+d][% d]", 42, 42, 42, 42, 42);
        SAME("[%*d][%-*d]", 6, -7, 6, -7);
        SAME("[%.3d][%8.3d][%-8.3x]", 5, 5, 5);
        SAME("[%.0d]", 0);
    }
    CASE("printf.strings_chars") {
        SAME("[%s][%10s][%-10s][%.2s][%.*s]", "abc", "abc", "abc", "abc", 1, "abc");
        SAME("[%c%c][%3c]", 'o', 'k', 'x');
        SAME("100%%");
    }
    CASE("printf.null_string") {
        char a[32];
        const char *volatile none = NULL; /* hidden from the format checker */
        RtlFormat(a, sizeof(a), "%s", none);
        EXPECT_STR(a, "(null)");
    }
    CASE("printf.pointer_is_16_hex_digits") {
        char a[32];
        RtlFormat(a, sizeof(a), "%p", (void *)0x1234);
        EXPECT_STR(a, "0000000000001234");
    }
    CASE("printf.truncation") {
        char a[8];
        memset(a, 'z', sizeof(a));
        int n = RtlFormat(a, sizeof(a), "%s-%d", "abcdef", 12345);
        EXPECT(n == 12);
        EXPECT_STR(a, "abcdef-");
        EXPECT(RtlFormat(NULL, 0, "%d", 123) == 3);
    }
    CASE("printf.unknown_conversion_is_shown") {
        char a[16];
        const char *volatile fmt = "%q|%"; /* deliberately invalid */
        RtlFormat(a, sizeof(a), fmt);
        EXPECT_STR(a, "%q|%");
    }
    CASE("glob.match") {
        EXPECT(RtlMatchGlob("*", "rtl.format"));
        EXPECT(RtlMatchGlob("rtl.*", "rtl.format"));
        EXPECT(RtlMatchGlob("*.format", "rtl.format"));
        EXPECT(RtlMatchGlob("r?l.f*t", "rtl.format"));
        EXPECT(RtlMatchGlob("*a*b*", "xxaxxbxx"));
        EXPECT(!RtlMatchGlob("rtl.*", "mm.page"));
        EXPECT(!RtlMatchGlob("rtl", "rtl.format"));
        EXPECT(!RtlMatchGlob("*x", "rtl.format"));
        EXPECT(RtlMatchGlob("", ""));
        EXPECT(!RtlMatchGlob("", "a"));
        EXPECT(!RtlMatchGlob("ke*dpc", "KeInsertQueueDpc"));
        EXPECT(RtlMatchGlobInsensitive("ke*dpc", "KeInsertQueueDpc"));
        EXPECT(RtlMatchGlobInsensitive("KE?NSERT*", "keinsert"));
        EXPECT(!RtlMatchGlobInsensitive("ke*apc", "KeInsertQueueDpc"));
    }
    return ktap_finish();
}
