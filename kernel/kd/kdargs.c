/*
 * kdargs.c - what every console command needs: words and WinDbg
 * expressions from the argument string, a processor number, memory read
 * without faulting, and addresses and symbols printed as WinDbg prints them.
 */
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include <irqlab/kequery.h>
#include "kd.h"
#include "kdexpr.h"

static BOOLEAN named(PCSTR Name, ULONG Length, PCSTR Word)
{
    return strlen(Word) == Length && strncmp(Name, Word, Length) == 0;
}

/*
 * A kernel symbol, also as nt!Name (WinDbg's module for the kernel), or one
 * of WinDbg's pseudo-registers for the console's CPU: $pcr, $prcb (with or
 * without the @).
 */
static BOOLEAN symbol(PCSTR Name, ULONG Length, ULONG64 *Address)
{
    ULONG_PTR a;

    if (Length > 0 && Name[0] == '@')
        Name++, Length--;
    if (named(Name, Length, "$pcr")) {
        *Address = (ULONG64)KeGetPcr();
        return TRUE;
    }
    if (named(Name, Length, "$prcb")) {
        *Address = (ULONG64)KeGetCurrentPrcb();
        return TRUE;
    }
    if (Length > 3 && strncmp(Name, "nt!", 3) == 0)
        Name += 3, Length -= 3;
    if (!KiFindSymbol(Name, Length, &a))
        return FALSE;
    *Address = a;
    return TRUE;
}

static BOOLEAN read_pointer(ULONG64 Address, ULONG64 *Value)
{
    return KdReadMemory(Address, Value, sizeof(*Value));
}

static const KD_EXPR_ENV KdExprEnv = { symbol, read_pointer };

BOOLEAN KdNextWord(PCSTR *Cursor, CHAR *Word, ULONG Size)
{
    PCSTR p = *Cursor;
    ULONG n = 0;

    while (*p == ' ')
        p++;
    if (*p == '\0')
        return FALSE;
    for (; *p && *p != ' '; p++)
        if (n + 1 < Size)
            Word[n++] = *p;
    Word[n] = '\0';
    *Cursor = p;
    return TRUE;
}

BOOLEAN KdAtEnd(PCSTR Cursor)
{
    while (*Cursor == ' ')
        Cursor++;
    return *Cursor == '\0';
}

BOOLEAN KdEvaluateText(PCSTR Text, ULONG64 *Value)
{
    PCSTR error;
    ULONG at;

    if (KdEvaluate(&KdExprEnv, Text, (ULONG)strlen(Text), Value, &error, &at))
        return TRUE;
    DbgPrint("Syntax error in '%s' at '%s': %s\n", Text, Text + at, error);
    return FALSE;
}

BOOLEAN KdNextValue(PCSTR *Cursor, ULONG64 *Value, BOOLEAN Required, PCSTR What)
{
    CHAR word[96];

    if (!KdNextWord(Cursor, word, sizeof(word))) {
        if (Required)
            DbgPrint("Missing %s\n", What);
        return FALSE;
    }
    return KdEvaluateText(word, Value);
}

BOOLEAN KdProcessorArgument(PCSTR *Cursor, ULONG *Number)
{
    ULONG64 n;

    *Number = KeGetCurrentProcessorNumber();
    if (KdAtEnd(*Cursor))
        return TRUE;
    if (!KdNextValue(Cursor, &n, TRUE, "processor number"))
        return FALSE;
    if (n >= (ULONG64)KeNumberProcessors) {
        DbgPrint("Processor %llx is not online (0 to %x are)\n", n, KeNumberProcessors - 1);
        return FALSE;
    }
    *Number = (ULONG)n;
    return TRUE;
}

BOOLEAN KdNoMoreArguments(PCSTR Cursor, PCSTR Usage)
{
    if (KdAtEnd(Cursor))
        return TRUE;
    while (*Cursor == ' ')
        Cursor++;
    DbgPrint("Extra arguments '%s'; usage: %s\n", Cursor, Usage);
    return FALSE;
}

BOOLEAN KdReadMemory(ULONG64 Address, PVOID Buffer, ULONG Size)
{
    MM_COPY_ADDRESS source;
    SIZE_T copied;

    source.VirtualAddress = (PVOID)Address;
    return MmCopyMemory(Buffer, source, Size, MM_COPY_MEMORY_VIRTUAL, &copied) == STATUS_SUCCESS;
}

VOID KdFormatAddress(ULONG64 Address, CHAR *Out, ULONG Size)
{
    RtlFormat(Out, Size, "%08llx`%08llx", Address >> 32, Address & 0xffffffff);
}

VOID KdMemoryError(ULONG64 Address)
{
    CHAR text[24];

    KdFormatAddress(Address, text, sizeof(text));
    DbgPrint("Memory access error at '%s'\n", text);
}
