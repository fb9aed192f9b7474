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

/* Memory holds a pointer at every 8-aligned address below 64 KiB, and nothing elsewhere. */
static BOOLEAN read_pointer(ULONG64 Address, ULONG64 *Value)
{
    if (Address >= 0x10000 || (Address & 7))
        return FALSE;
    *Value = Address * 0x9e3779b97f4a7c15ull;
    return TRUE;
}

static const KD_EXPR_ENV Env = { symbol, read_pointer };

int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size)
{
    ULONG64 value;
    PCSTR error = NULL;
    ULONG at = ~0u;

    if (Size > 512) /* the console's line is 159 characters */
        return 0;
    if (!KdEvaluate(&Env, (PCSTR)Data, (ULONG)Size, &value, &error, &at) && (error == NULL || at > Size))
        __builtin_trap();
    return 0;
}
