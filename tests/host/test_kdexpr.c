/*
 * test_kdexpr.c - the console's expression evaluator: WinDbg's number forms,
 * symbols, registers, operators and spaces between them, poi() and its
 * sized kin, every error path and its class, and 300,000 random or
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

static BOOLEAN fake_register(PCSTR Name, ULONG Length, ULONG64 *Value)
{
    if ((Length == 3 && memcmp(Name, "rip", 3) == 0) || (Length == 3 && memcmp(Name, "$ip", 3) == 0)) {
        *Value = 0xffffffff80001000ull;
        return TRUE;
    }
    return FALSE;
}

/* Memory holds 0x8877665544332211 at KiProcessorBlock and nothing elsewhere. */
static BOOLEAN fake_read(ULONG64 Address, ULONG Size, ULONG64 *Value)
{
    if (Address != 0xffffffff80010000ull)
        return FALSE;
    *Value = Size == 8 ? 0x8877665544332211ull : 0x8877665544332211ull & ((1ull << (Size * 8)) - 1);
    return TRUE;
}

static const KD_EXPR_ENV env = { fake_symbol, fake_register, fake_read };
static KD_EXPR_FAILURE failure;

static int eval(const char *text, ULONG64 *value)
{
    failure.Message = NULL;
    failure.At = ~0u;
    BOOLEAN ok = KdEvaluate(&env, text, (ULONG)strlen(text), value, &failure);
    if (!ok && (failure.Message == NULL || failure.At > strlen(text)))
        return -1; /* a failure must say why and where */
    return ok;
}

/* Fails, and as Kind. */
static int bad_as(const char *text, KD_EXPR_ERROR kind)
{
    ULONG64 v;
    return eval(text, &v) == 0 && failure.Kind == kind;
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
        EXPECT(is("1 + 2 * 3", 7));
        EXPECT(is(" ( 1 + 2 ) * 3 ", 9));
        EXPECT(is("10 - 2 - 3", 0xb));
        EXPECT(is("- 1 + 2", 1));
        EXPECT(is("0n100 / 0n7 % 0n5", 4));
    }
    CASE("kdexpr.symbols_and_poi") {
        EXPECT(is("KiProcessorBlock", 0xffffffff80010000ull));
        EXPECT(is("irqlab!KiProcessorBlock+8", 0xffffffff80010008ull));
        EXPECT(is("poi(KiProcessorBlock)", 0x8877665544332211ull));
        EXPECT(is("poi(irqlab!KiProcessorBlock)+1", 0x8877665544332212ull));
        EXPECT(is("KiProcessorBlock + 8", 0xffffffff80010008ull));
        EXPECT(is("poi( KiProcessorBlock )", 0x8877665544332211ull));
        EXPECT(is("qwo(KiProcessorBlock)", 0x8877665544332211ull));
        EXPECT(is("dwo(KiProcessorBlock)", 0x44332211));
        EXPECT(is("wo(KiProcessorBlock)", 0x2211));
        EXPECT(is("by(KiProcessorBlock)", 0x11));
        EXPECT(is("by (KiProcessorBlock) + 1", 0x12));
    }
    CASE("kdexpr.registers") {
        EXPECT(is("@rip", 0xffffffff80001000ull));
        EXPECT(is("@$ip + 4", 0xffffffff80001004ull));
        EXPECT(is("$ip", 0xffffffff80001000ull));
        EXPECT(is("rip", 0xffffffff80001000ull)); /* a bare word: no symbol or number, so a register */
        EXPECT(bad_as("@rap", KdExprBadRegister));
        EXPECT(bad_as("@", KdExprBadRegister));
        EXPECT(bad_as("$nothing", KdExprBadRegister));
    }
    CASE("kdexpr.error_classes") {
        EXPECT(bad_as("1/0", KdExprDivide));
        EXPECT(bad_as("1 % (2 - 2)", KdExprDivide));
        EXPECT(bad_as("poi(0)", KdExprMemory) && failure.Address == 0);
        EXPECT(bad_as("by(KiProcessorBlock + 1)", KdExprMemory) && failure.Address == 0xffffffff80010001ull);
        EXPECT(bad_as("nosuchsymbol", KdExprUnresolved) && failure.At == 0);
        EXPECT(bad_as("1 + beefy", KdExprUnresolved) && failure.At == 4);
        EXPECT(bad_as("1 2", KdExprSyntax));
        EXPECT(bad_as("(1", KdExprSyntax));
        EXPECT(bad_as("poi 5", KdExprSyntax));
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
        static const char alphabet[] = "0123456789abcdefxnyXN`()+-*/%~ !poiKiProcessorBlockirqlab\t@$.ripbywodwqw";
        char text[64];
        unsigned seed = 12345;
        int answered = 0;
        for (int i = 0; i < 300000; i++) {
            int n = rand_r(&seed) % (int)sizeof(text);
            for (int j = 0; j < n; j++)
                text[j] = (i & 1) ? (char)(rand_r(&seed) % 256) : alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
            ULONG64 v;
            KD_EXPR_FAILURE f = { KdExprSyntax, NULL, ~0u, 0 };
            BOOLEAN ok = KdEvaluate(&env, text, (ULONG)n, &v, &f);
            answered += ok || (f.Message != NULL && f.At <= (ULONG)n);
        }
        EXPECT(answered == 300000);
    }
    return ktap_finish();
}
