/*
 * fuzz_kdexpr.c - libFuzzer on the console's expression evaluator
 * (kernel/kd/kdexpr.c): any bytes, as typed, get a value or an error that
 * points inside the text; never a crash, a hang or unbounded recursion.
 */
#include <stddef.h>
#include <stdint.h>
#include "kdexpr.h"

static BOOLEAN symbol(PCSTR Name, ULONG Length, ULONG64 *Address)
{
    static const char known[] = "KiProcessorBlock";

    if (Length != sizeof(known) - 1)
        return FALSE;
    for (ULONG i = 0; i < Length; i++)
        if (Name[i] != known[i])
            return FALSE;
    *Address = 0xffffffff80051d60ull;
    return TRUE;
}

static BOOLEAN reg(PCSTR Name, ULONG Length, ULONG64 *Value)
{
    if (Length != 3 || Name[0] != 'r' || Name[1] != 's' || Name[2] != 'p')
        return FALSE;
    *Value = 0xffffffff80123f00ull;
    return TRUE;
}

/* Memory holds a value at every Size-aligned address below 64 KiB, and nothing elsewhere. */
static BOOLEAN read_memory(ULONG64 Address, ULONG Size, ULONG64 *Value)
{
    if (Address >= 0x10000 || (Address & (Size - 1)))
        return FALSE;
    *Value = (Address * 0x9e3779b97f4a7c15ull) >> (64 - Size * 8);
    return TRUE;
}

static const KD_EXPR_ENV Env = { symbol, reg, read_memory };

int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size)
{
    ULONG64 value;
    KD_EXPR_FAILURE failure = { KdExprSyntax, NULL, ~0u, 0 };

    if (Size > 512) /* the console's line is 159 characters */
        return 0;
    if (!KdEvaluate(&Env, (PCSTR)Data, (ULONG)Size, &value, &failure) && (failure.Message == NULL || failure.At > Size))
        __builtin_trap();
    return 0;
}
