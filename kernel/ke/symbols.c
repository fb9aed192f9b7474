/*
 * symbols.c - the kernel's own symbol table, for backtraces and the debugger.
 *
 * The build links the kernel twice: the first link's `nm` output becomes
 * ksyms.c (tools/gensyms.py), placed in .ksyms, the last section of the image,
 * so adding it moves no other symbol (the Makefile checks that).
 */
#include <irqlab/rtl.h>
#include "ki.h"

extern const ULONG KiSymbolCount;
extern const ULONG_PTR KiSymbolAddresses[];
extern const ULONG KiSymbolNameOffsets[];
extern const char KiSymbolNames[];
extern const char __KernelStart[], __KernelEnd[];

BOOLEAN KiNextSymbol(ULONG_PTR Address, PCSTR *Name, ULONG_PTR *Start)
{
    ULONG lo = 0, hi = KiSymbolCount;

    while (lo < hi) { /* the first entry whose address is > Address */
        ULONG mid = lo + (hi - lo) / 2;
        if (KiSymbolAddresses[mid] <= Address)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == KiSymbolCount)
        return FALSE;
    *Name = KiSymbolNames + KiSymbolNameOffsets[lo];
    *Start = KiSymbolAddresses[lo];
    return TRUE;
}

BOOLEAN KiLookupSymbol(ULONG_PTR Address, PCSTR *Name, ULONG_PTR *Offset)
{
    ULONG lo = 0, hi = KiSymbolCount;

    if (Address < (ULONG_PTR)__KernelStart || Address >= (ULONG_PTR)__KernelEnd || hi == 0)
        return FALSE;
    /* The last entry whose address is <= Address. */
    while (hi - lo > 1) {
        ULONG mid = lo + (hi - lo) / 2;
        if (KiSymbolAddresses[mid] <= Address)
            lo = mid;
        else
            hi = mid;
    }
    if (KiSymbolAddresses[lo] > Address)
        return FALSE;
    *Name = KiSymbolNames + KiSymbolNameOffsets[lo];
    *Offset = Address - KiSymbolAddresses[lo];
    return TRUE;
}

BOOLEAN KiFormatSymbol(ULONG_PTR Address, char *Buffer, size_t Size)
{
    PCSTR name;
    ULONG_PTR offset;

    if (!KiLookupSymbol(Address, &name, &offset)) {
        RtlFormat(Buffer, Size, "%016llx", (ULONG64)Address);
        return FALSE;
    }
    if (offset == 0)
        RtlFormat(Buffer, Size, "irqlab!%s", name);
    else
        RtlFormat(Buffer, Size, "irqlab!%s+0x%llx", name, (ULONG64)offset);
    return TRUE;
}

/*
 * A return address belongs to the call before it: the symbol is looked up at
 * Address - 1, since a call to a routine that never returns (KeBugCheckEx)
 * may be its function's last instruction, and the next byte the next
 * function.  The offset printed is still Address's, as WinDbg's stacks show.
 */
void KiFormatReturnAddress(ULONG_PTR Address, char *Buffer, size_t Size)
{
    PCSTR name;
    ULONG_PTR offset;

    if (Address == 0 || !KiLookupSymbol(Address - 1, &name, &offset))
        RtlFormat(Buffer, Size, "%016llx", (ULONG64)Address);
    else
        RtlFormat(Buffer, Size, "irqlab!%s+0x%llx", name, (ULONG64)offset + 1);
}

BOOLEAN KiFindSymbol(PCSTR Name, ULONG Length, ULONG_PTR *Address)
{
    for (ULONG i = 0; i < KiSymbolCount; i++) {
        PCSTR candidate = KiSymbolNames + KiSymbolNameOffsets[i];
        if (strncmp(candidate, Name, Length) == 0 && candidate[Length] == '\0') {
            *Address = KiSymbolAddresses[i];
            return TRUE;
        }
    }
    return FALSE;
}

BOOLEAN KiEnumerateSymbols(ULONG Index, PCSTR *Name, ULONG_PTR *Address)
{
    if (Index >= KiSymbolCount)
        return FALSE;
    *Name = KiSymbolNames + KiSymbolNameOffsets[Index];
    *Address = KiSymbolAddresses[Index];
    return TRUE;
}

VOID KiQueryImageBounds(ULONG_PTR *Start, ULONG_PTR *End)
{
    *Start = (ULONG_PTR)__KernelStart;
    *End = (ULONG_PTR)__KernelEnd;
}
