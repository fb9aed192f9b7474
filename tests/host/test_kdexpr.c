/*
 * test_kdexpr.c - the console's expression evaluator: WinDbg's number forms,
 * symbols, operators, poi(), every error path, and 300,000 random or
 * malformed inputs that must each get an answer (under ASan and UBSan).
 */
#include <stdlib.h>
#include <string.h>
#include "../../kernel/kd/kdexpr.h"
#include "ktap.h"

static BOOLEAN fake_symbol(PCSTR Name, ULONG Length, ULONG64 *Address)
{
    if (Length == 16 && memcmp(Name, "KiProcessorBlock", 16) == 0) {
        *Address = 0xffffffff80010000ull;
        return TRUE;
    }
    return FALSE;
}

static BOOLEAN fake_read(ULONG64 Address, ULONG64 *Value)
{
    if (Address != 0xffffffff80010000ull)
        return FALSE;
    *Value = 0x1234;
    return TRUE;
}

static const KD_EXPR_ENV env = { fake_symbol, fake_read };

static int eval(const char *text, ULONG64 *value)
{
    PCSTR error = NULL;
    ULONG at = 0;
    BOOLEAN ok = KdEvaluate(&env, text, (ULONG)strlen(text), value, &error, &at);
    if (!ok && (error == NULL || at > strlen(text)))
        return -1; /* a failure must say why and where */
    return ok;
}

static int is(const char *text, ULONG64 expected)
{
    ULONG64 v = ~expected;
    return eval(text, &v) == 1 && v == expected;
}

static int bad(const char *text)
{
    ULONG64 v;
    return eval(text, &v) == 0;
}

int main(void)
{
    CASE("kdexpr.numbers") {
        EXPECT(is("10", 0x10));
        EXPECT(is("0x10", 0x10));
        EXPECT(is("0n10", 10));
        EXPECT(is("0y101", 5));
        EXPECT(is("fffff800`4150b2e0", 0xfffff8004150b2e0ull));
        EXPECT(is("ffffffffffffffff", ~0ull));
        EXPECT(is("  beef ", 0xbeef));
    }
    CASE("kdexpr.operators") {
        EXPECT(is("1+2*3", 7));
        EXPECT(is("(1+2)*3", 9));
        EXPECT(is("0n10/0n3", 3));
        EXPECT(is("0n10%0n3", 1));
        EXPECT(is("-1", ~0ull));
        EXPECT(is("~0", ~0ull));
        EXPECT(is("10-20", (ULONG64)0 - 0x10));
    }
    CASE("kdexpr.symbols_and_poi") {
        EXPECT(is("KiProcessorBlock", 0xffffffff80010000ull));
        EXPECT(is("irqlab!KiProcessorBlock+8", 0xffffffff80010008ull));
        EXPECT(is("poi(KiProcessorBlock)", 0x1234));
        EXPECT(is("poi(irqlab!KiProcessorBlock)+1", 0x1235));
    }
    CASE("kdexpr.errors") {
        EXPECT(bad(""));
        EXPECT(bad("   "));
        EXPECT(bad("nosuchsymbol"));
        EXPECT(bad("1/0"));
        EXPECT(bad("1%0"));
        EXPECT(bad("(1"));
        EXPECT(bad("1)"));
        EXPECT(bad("1 2"));
        EXPECT(bad("0x"));
        EXPECT(bad("0n12a"));
        EXPECT(bad("0y2"));
        EXPECT(bad("10000000000000000"));
        EXPECT(bad("poi(5)"));
        EXPECT(bad("poi 5"));
        EXPECT(bad("1+"));
        EXPECT(bad("*"));
    }
    CASE("kdexpr.deep_nesting_is_refused") {
        char text[4096];
        memset(text, '(', 2000);
        text[2000] = '1';
        memset(text + 2001, ')', 2000);
        text[4001] = '\0';
        EXPECT(bad(text));
        memset(text, '-', 3000);
        text[3000] = '1';
        text[3001] = '\0';
        EXPECT(bad(text));
    }
    CASE("kdexpr.random_input_always_answers") {
        static const char alphabet[] = "0123456789abcdefxnyXN`()+-*/%~ !poiKiProcessorBlockirqlab\t@$.";
        char text[64];
        unsigned seed = 12345;
        int answered = 0;
        for (int i = 0; i < 300000; i++) {
            int n = rand_r(&seed) % (int)sizeof(text);
            for (int j = 0; j < n; j++)
                text[j] = (i & 1) ? (char)(rand_r(&seed) % 256) : alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
            ULONG64 v;
            PCSTR error = NULL;
            ULONG at = 0;
            BOOLEAN ok = KdEvaluate(&env, text, (ULONG)n, &v, &error, &at);
            answered += ok || (error != NULL && at <= (ULONG)n);
        }
        EXPECT(answered == 300000);
    }
    return ktap_finish();
}
