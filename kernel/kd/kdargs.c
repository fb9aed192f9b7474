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

/* A kernel symbol, also as nt!Name (WinDbg's module for the kernel). */
static BOOLEAN symbol(PCSTR Name, ULONG Length, ULONG64 *Address)
{
    ULONG_PTR a;

    if (Length > 3 && _strnicmp(Name, "nt!", 3) == 0)
        Name += 3, Length -= 3;
    if (!KiFindSymbol(Name, Length, &a))
        return FALSE;
    *Address = a;
    return TRUE;
}

static BOOLEAN reg(PCSTR Name, ULONG Length, ULONG64 *Value)
{
    CHAR name[16];

    if (Length >= sizeof(name))
        return FALSE;
    memcpy(name, Name, Length);
    name[Length] = '\0';
    return KdRegisterValue(name, Value);
}

static BOOLEAN read_sized(ULONG64 Address, ULONG Size, ULONG64 *Value)
{
    *Value = 0;
    return KdReadMemory(Address, Value, Size); /* little-endian: the low Size bytes */
}

static const KD_EXPR_ENV KdExprEnv = { symbol, reg, read_sized };

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

/* One line in WinDbg's wording for each class of error (its "... error at '<rest>'"). */
static VOID say_failure(PCSTR Text, const KD_EXPR_FAILURE *F)
{
    switch (F->Kind) {
    case KdExprDivide:
        DbgPrint("Divide by zero error in '%s'\n", Text);
        break;
    case KdExprMemory:
        KdMemoryError(F->Address);
        break;
    case KdExprUnresolved:
        DbgPrint("Couldn't resolve error at '%s'\n", Text + F->At);
        break;
    case KdExprBadRegister:
        DbgPrint("Bad register error at '%s'\n", Text + F->At);
        break;
    default:
        DbgPrint("Syntax error in '%s' at '%s': %s\n", Text, Text + F->At, F->Message);
        break;
    }
}

BOOLEAN KdEvaluateText(PCSTR Text, ULONG64 *Value)
{
    KD_EXPR_FAILURE failure;

    if (KdEvaluate(&KdExprEnv, Text, (ULONG)strlen(Text), Value, &failure))
        return TRUE;
    say_failure(Text, &failure);
    return FALSE;
}

BOOLEAN KdRestValue(PCSTR *Cursor, ULONG64 *Value, PCSTR What)
{
    CHAR text[KD_LINE_MAX];
    PCSTR p = *Cursor;

    while (*p == ' ')
        p++;
    ULONG n = (ULONG)strnlen(p, sizeof(text) - 1);
    while (n > 0 && p[n - 1] == ' ')
        n--;
    if (n == 0) {
        DbgPrint("Missing %s\n", What);
        return FALSE;
    }
    memcpy(text, p, n);
    text[n] = '\0';
    *Cursor = p + strlen(p);
    return KdEvaluateText(text, Value);
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
