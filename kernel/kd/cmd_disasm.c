/*
 * cmd_disasm.c - u, ub and uf: WinDbg's disassembly commands (disasm.c
 * decodes and writes each line).  A symbol's line (`irqlab!KeRaiseIrql+0x4:`)
 * comes first and wherever a new symbol starts; uf lists a function in
 * address order with a line at each jump target in it (WinDbg's `uf /o`).
 */
#include <irqlab/memmap.h>
#include <irqlab/rtl.h>
#include <irqlab/kequery.h>
#include "kd.h"
#include "disasm.h"

#define U_DEFAULT 8        /* WinDbg's u shows 8 instructions */
#define U_LIMIT 0x100      /* in one command: a serial console */
#define UB_WINDOW 0x1000   /* ub decodes from at most this far back */
#define UB_GUESS 0x100     /* ...and without a symbol, from at most this far */
#define UB_VOTES 16        /* different decodings ub weighs without a symbol */
#define UF_LIMIT 0x400     /* instructions uf lists */
#define UF_SPAN 0x4000     /* the farthest uf looks for the next symbol */
#define UF_TARGETS 128     /* jump targets inside one function that get their own line */

#define U_USAGE "u [address] [L<count>]"
#define UB_USAGE "ub [address] [L<count>]"
#define UF_USAGE "uf <function>"

static ULONG64 KdUnassembleFirst, KdUnassembleNext; /* the last listing: ub and u go on from them */
static BOOLEAN KdUnassembleValid;
static UCHAR KdWindow[UB_WINDOW];
static ULONG64 KdWindowBase; /* the address of KdWindow[0] */
static ULONG64 KdBoundaries[U_LIMIT];

static VOID print_label(ULONG64 Address)
{
    CHAR symbol[96];

    if (KiFormatSymbol(Address, symbol, sizeof(symbol)))
        DbgPrint("%s:\n", symbol);
}

/* TRUE when a symbol starts at Address. */
static BOOLEAN new_symbol(ULONG64 Address)
{
    PCSTR name;
    ULONG_PTR offset;

    return KiLookupSymbol(Address, &name, &offset) && offset == 0;
}

/* Lists Count instructions from Address; FALSE after a memory error (said). */
static BOOLEAN list(ULONG64 Address, ULONG Count)
{
    KD_INSTRUCTION instruction;
    ULONG64 unreadable;

    KdUnassembleFirst = Address;
    for (ULONG n = 0; n < Count; n++) {
        if (!KdDecodeAt(Address, &instruction, &unreadable)) {
            KdMemoryError(unreadable);
            return FALSE;
        }
        if (n == 0 || new_symbol(Address))
            print_label(Address);
        KdPrintInstruction(&instruction);
        Address += instruction.Length;
    }
    KdUnassembleNext = Address;
    KdUnassembleValid = TRUE;
    return TRUE;
}

/* `L<count>` or `L <count>`: 1 to U_LIMIT instructions; FALSE (said why) when bad. */
static BOOLEAN parse_count(PCSTR *Cursor, PCSTR Word, PCSTR Usage, ULONG *Count)
{
    ULONG64 count;

    if (Word[0] != 'L' && Word[0] != 'l') {
        DbgPrint("Expected L<count> after the address, not '%s'; usage: %s\n", Word, Usage);
        return FALSE;
    }
    if (Word[1] ? !KdEvaluateText(Word + 1, &count) : !KdNextValue(Cursor, &count, TRUE, "count after L"))
        return FALSE;
    if (count == 0 || count > U_LIMIT) {
        DbgPrint("Range error: L%llx; %s lists 1 to 0x%x instructions\n", count, Usage, U_LIMIT);
        return FALSE;
    }
    *Count = (ULONG)count;
    return KdNoMoreArguments(*Cursor, Usage);
}

/* [address] [L<count>]; no address: Default, if the console has one.  FALSE when bad (said). */
static BOOLEAN parse_range(PCSTR Args, PCSTR Usage, ULONG64 Default, ULONG64 *Address, ULONG *Count)
{
    CHAR word[96];

    *Count = U_DEFAULT;
    *Address = Default;
    if (!KdNextWord(&Args, word, sizeof(word)) || word[0] == 'L' || word[0] == 'l') {
        if (!KdUnassembleValid) {
            DbgPrint("Missing address; usage: %s\n", Usage);
            return FALSE;
        }
        return word[0] == 'L' || word[0] == 'l' ? parse_count(&Args, word, Usage, Count) : TRUE;
    }
    if (!KdEvaluateText(word, Address)) {
        DbgPrint("usage: %s\n", Usage);
        return FALSE;
    }
    return KdNextWord(&Args, word, sizeof(word)) ? parse_count(&Args, word, Usage, Count) : TRUE;
}

KD_COMMAND(u, "u", U_USAGE, "disassemble (default 8 instructions; no address: go on after the last u)")
{
    ULONG64 address;
    ULONG count;

    if (parse_range(Args, U_USAGE, KdUnassembleNext, &address, &count))
        list(address, count);
}

/*
 * Decodes KdWindow's bytes from Start to End; how many of the last Count
 * instructions before End it found, the first of them in *First; 0 when the
 * instructions from Start do not end exactly at End or one is invalid.
 */
static ULONG walk(ULONG64 Start, ULONG64 End, ULONG Count, ULONG64 *First)
{
    KD_INSTRUCTION instruction;
    ULONG64 seen = 0, at = Start;

    while (at < End) {
        if (!KdDecodeBytes(at, KdWindow + (at - KdWindowBase), (ULONG)(End - at), &instruction) ||
            !instruction.Valid)
            return 0;
        KdBoundaries[seen++ % Count] = at;
        at += instruction.Length;
    }
    if (at != End || seen == 0)
        return 0;
    *First = KdBoundaries[seen > Count ? seen % Count : 0];
    return seen < Count ? (ULONG)seen : Count;
}

/* Reads [*Start, End) into KdWindow; from End's page only when a page below cannot be read. */
static BOOLEAN read_window(ULONG64 *Start, ULONG64 End)
{
    ULONG64 page = (End - 1) & ~(ULONG64)(PAGE_SIZE - 1);

    if (!KdReadMemory(*Start, KdWindow, (ULONG)(End - *Start))) {
        if (page <= *Start || !KdReadMemory(page, KdWindow, (ULONG)(End - page)))
            return FALSE;
        *Start = page;
    }
    KdWindowBase = *Start;
    return TRUE;
}

/*
 * A symbol's start is an instruction's: decoding from the start of the
 * function End is in, or of the one before it when that gives too few,
 * lands on End.  Returns how many instructions it found; *Synced says a
 * symbol was near, so 0 then means End is inside an instruction.
 */
static ULONG back_from_symbols(ULONG64 End, ULONG Count, ULONG64 *First, BOOLEAN *Synced)
{
    PCSTR name;
    ULONG_PTR offset;
    ULONG found = 0, more;

    *Synced = FALSE;
    for (ULONG64 at = End; found < Count && KiLookupSymbol(at - 1, &name, &offset);) {
        ULONG64 start = at - 1 - offset, read = start;
        if (End - start > UB_WINDOW || !read_window(&read, End) || read != start)
            break;
        *Synced = TRUE;
        if ((more = walk(start, End, Count, First)) == 0)
            break;
        found = more;
        at = start;
    }
    return found;
}

/*
 * Without a symbol: every start up to Count * 15 bytes back (at most
 * UB_GUESS) whose instructions end at End votes for the first of its last
 * Count; the most voted wins (the farthest on a tie), since decodings from
 * different starts converge on the true boundaries.
 */
static ULONG back_from_guess(ULONG64 End, ULONG Count, ULONG64 *First, BOOLEAN *Readable)
{
    ULONG64 back = (ULONG64)(Count + 1) * KD_INSTRUCTION_MAX, start, first, firsts[UB_VOTES];
    ULONG found, votes[UB_VOTES], kinds = 0, best = 0, best_found = 0;

    start = End > (back < UB_GUESS ? back : UB_GUESS) ? End - (back < UB_GUESS ? back : UB_GUESS) : 0;
    *Readable = End > start && read_window(&start, End);
    for (ULONG64 s = start; *Readable && s < End; s++) {
        if ((found = walk(s, End, Count, &first)) == 0)
            continue;
        ULONG k = 0;
        while (k < kinds && firsts[k] != first)
            k++;
        if (k == kinds && kinds == UB_VOTES)
            continue;
        if (k == kinds)
            firsts[kinds] = first, votes[kinds++] = 0;
        if (++votes[k] > best)
            best = votes[k], best_found = found, *First = first;
    }
    return best_found;
}

KD_COMMAND(ub, "ub", UB_USAGE, "disassemble the instructions ending at an address (no address: before the last u)")
{
    ULONG64 end, first;
    ULONG count, found;
    BOOLEAN synced, readable = TRUE;
    CHAR text[24];

    if (!parse_range(Args, UB_USAGE, KdUnassembleFirst, &end, &count))
        return;
    found = back_from_symbols(end, count, &first, &synced);
    if (found == 0 && !synced)
        found = back_from_guess(end, count, &first, &readable);
    KdFormatAddress(end, text, sizeof(text));
    if (found == 0 && !readable)
        KdMemoryError(end - 1);
    else if (found == 0)
        DbgPrint("No instruction ends at '%s': it is inside one\n", text);
    else if (list(first, found))
        KdUnassembleNext = end;
}

/* ---- uf ------------------------------------------------------------------- */

typedef struct _FUNCTION {
    ULONG64 Start, End;         /* End: the next symbol, or 0 when Start has none (then: flow) */
    ULONG64 Targets[UF_TARGETS]; /* jump targets inside, each a block of its own */
    ULONG TargetCount;
} FUNCTION;

static BOOLEAN is_target(const FUNCTION *F, ULONG64 Address)
{
    for (ULONG i = 0; i < F->TargetCount; i++)
        if (F->Targets[i] == Address)
            return TRUE;
    return FALSE;
}

/* TRUE when the instruction at I ends the function: it reaches the next symbol, or (no symbol)
 * it ends a path and no jump seen so far goes beyond it. */
static BOOLEAN ends_function(const FUNCTION *F, const KD_INSTRUCTION *I, ULONG64 Farthest)
{
    ULONG64 next = I->Address + I->Length;

    if (F->End)
        return next >= F->End;
    return (I->Flow == KdFlowStop || I->Flow == KdFlowJump) && next > Farthest;
}

/* Where the symbol after Start begins (the table has no sizes); 0 when none is near. */
static ULONG64 next_symbol(ULONG64 Start)
{
    for (ULONG64 at = Start + 1; at - Start < UF_SPAN; at++)
        if (new_symbol(at))
            return at;
    return 0;
}

/*
 * First pass: where the function's code ends (trailing nop and int3 padding
 * left out) and which addresses inside it are jump targets.  FALSE after a
 * memory error (said).
 */
static BOOLEAN survey(FUNCTION *F, ULONG64 *CodeEnd)
{
    KD_INSTRUCTION instruction;
    ULONG64 at = F->Start, farthest = 0, unreadable;

    *CodeEnd = F->Start;
    for (ULONG n = 0; n < UF_LIMIT; n++) {
        if (!KdDecodeAt(at, &instruction, &unreadable)) {
            KdMemoryError(unreadable);
            return FALSE;
        }
        if (instruction.HasTarget && instruction.Flow != KdFlowCall && instruction.Target > F->Start &&
            (F->End == 0 || instruction.Target < F->End) && F->TargetCount < UF_TARGETS &&
            !is_target(F, instruction.Target))
            F->Targets[F->TargetCount++] = instruction.Target;
        if (instruction.HasTarget && instruction.Flow != KdFlowCall && instruction.Target > farthest)
            farthest = instruction.Target;
        at += instruction.Length;
        if (instruction.Flow != KdFlowPadding)
            *CodeEnd = at;
        if (ends_function(F, &instruction, farthest))
            return TRUE;
    }
    DbgPrint("(uf lists at most 0x%x instructions)\n", UF_LIMIT);
    return TRUE;
}

KD_COMMAND(uf, "uf", UF_USAGE, "disassemble a whole function, in address order (as WinDbg's uf /o)")
{
    static FUNCTION function;
    KD_INSTRUCTION instruction;
    ULONG64 address, end, unreadable;
    PCSTR name;
    ULONG_PTR offset;

    if (KdAtEnd(Args) || !KdNextValue(&Args, &address, TRUE, "function")) {
        DbgPrint("usage: %s\n", UF_USAGE);
        return;
    }
    if (!KdNoMoreArguments(Args, UF_USAGE))
        return;
    memset(&function, 0, sizeof(function));
    function.Start = address;
    if (KiLookupSymbol(address, &name, &offset)) { /* WinDbg's uf lists the whole function address is in */
        function.Start = address - offset;
        function.End = next_symbol(function.Start);
    }
    if (!survey(&function, &end))
        return;
    KdUnassembleFirst = function.Start;
    for (ULONG64 at = function.Start; at < end; at += instruction.Length) {
        if (!KdDecodeAt(at, &instruction, &unreadable)) {
            KdMemoryError(unreadable);
            return;
        }
        if (at == function.Start || is_target(&function, at))
            print_label(at);
        KdPrintInstruction(&instruction);
    }
    KdUnassembleNext = end;
    KdUnassembleValid = TRUE;
}
