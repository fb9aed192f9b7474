/*
 * cmd_sym.c - symbols and the one module: x <module>!<glob> (examine
 * symbols), lm (list loaded modules), .reload, and dps/dqs (pointers with
 * the symbol each one points into), after WinDbg's commands of those names
 * (https://learn.microsoft.com/windows-hardware/drivers/debuggercmds/x--examine-symbols-,
 * .../lm--list-loaded-modules-, .../dds--dps--dqs--display-words-and-symbols-).
 * The kernel is the only module: `irqlab`, also answering to WinDbg's `nt`.
 */
#include <irqlab/rtl.h>
#include <irqlab/kequery.h>
#include "kd.h"

#define X_LIMIT    64     /* symbols x prints; it says how many more matched */
#define DPS_LIMIT  0x2000 /* pointers in one dps: 64 KiB, as db/dd/dq allow */
#define DPS_COUNT  0x10   /* WinDbg's default: 128 bytes */

static ULONG64 KdPointersNext;
static BOOLEAN KdPointersNextValid;

/* `irqlab`, `nt` (WinDbg's name for the kernel) or a glob matching either, any case. */
static BOOLEAN is_kernel_module(PCSTR Pattern)
{
    return RtlMatchGlobInsensitive(Pattern, "irqlab") || RtlMatchGlobInsensitive(Pattern, "nt");
}

/* Splits `module!glob` (or a bare glob) and says why not when the module is not the kernel. */
static BOOLEAN split_pattern(PCSTR Word, PCSTR *Glob)
{
    CHAR module[64];
    PCSTR bang = strchr(Word, '!');

    *Glob = Word;
    if (bang == NULL)
        return TRUE;
    ULONG length = (ULONG)(bang - Word);
    if (length >= sizeof(module))
        length = sizeof(module) - 1;
    memcpy(module, Word, length);
    module[length] = '\0';
    *Glob = bang + 1;
    if (is_kernel_module(module))
        return TRUE;
    DbgPrint("No module matches '%s': the kernel, irqlab (also nt), is the only one; type lm\n", module);
    return FALSE;
}

KD_COMMAND(x, "x", "x <module>!<pattern>", "symbols matching a pattern (* and ?, any case): x nt!Ke*Dpc*")
{
    CHAR word[96], text[24];
    PCSTR glob, name;
    ULONG_PTR address;
    ULONG matched = 0;

    if (!KdNextWord(&Args, word, sizeof(word))) {
        DbgPrint("Missing pattern; usage: x <module>!<pattern>\n");
        return;
    }
    if (!KdNoMoreArguments(Args, "x <module>!<pattern>") || !split_pattern(word, &glob))
        return;
    for (ULONG i = 0; KiEnumerateSymbols(i, &name, &address); i++) {
        if (!RtlMatchGlobInsensitive(glob, name))
            continue;
        if (matched++ < X_LIMIT) {
            KdFormatAddress(address, text, sizeof(text));
            DbgPrint("%s irqlab!%s\n", text, name);
        }
    }
    if (matched == 0)
        DbgPrint("No symbol matches '%s'\n", word);
    else if (matched > X_LIMIT)
        DbgPrint("... and %u more matching symbols; narrow the pattern to see them\n", matched - X_LIMIT);
}

KD_COMMAND(lm, "lm", "lm [m <pattern>]", "the loaded modules: the kernel image, irqlab (alias nt)")
{
    CHAR start[24], end[24], pattern[64] = "";
    ULONG_PTR first, last;

    if (!KdAtEnd(Args)) {
        CHAR option[8];
        KdNextWord(&Args, option, sizeof(option));
        if (_stricmp(option, "m") != 0 || !KdNextWord(&Args, pattern, sizeof(pattern))) {
            DbgPrint("Expected m <pattern>, not '%s'; usage: lm [m <pattern>]\n", option);
            return;
        }
        if (!KdNoMoreArguments(Args, "lm [m <pattern>]"))
            return;
    }
    KiQueryImageBounds(&first, &last);
    KdFormatAddress(first, start, sizeof(start));
    KdFormatAddress(last, end, sizeof(end));
    DbgPrint("start             end                 module name\n");
    if (pattern[0] == '\0' || is_kernel_module(pattern))
        DbgPrint("%s %s   irqlab     (private symbols, built in)  alias nt\n", start, end);
}

KD_COMMAND(reload, ".reload", ".reload [options]", "accepted: the kernel's symbols are built in, always loaded")
{
    UNREFERENCED_PARAMETER(Args);
    DbgPrint("Symbols are built into the kernel image and always loaded (irqlab, alias nt): nothing to reload\n");
}

/* `L<count>` or `L <count>` in pointers, within DPS_LIMIT; FALSE (said why) when bad. */
static BOOLEAN pointer_count(PCSTR *Cursor, PCSTR Word, PCSTR Usage, ULONG64 *Count)
{
    if (Word[0] != 'L' && Word[0] != 'l') {
        DbgPrint("Expected L<count> after the address, not '%s'; usage: %s\n", Word, Usage);
        return FALSE;
    }
    if (Word[1] ? !KdEvaluateText(Word + 1, Count) : !KdNextValue(Cursor, Count, TRUE, "count after L"))
        return FALSE;
    if (*Count == 0 || *Count > DPS_LIMIT) {
        DbgPrint("Range error: L%llx; a dump is 1 to 0x%x pointers\n", *Count, DPS_LIMIT);
        return FALSE;
    }
    return KdNoMoreArguments(*Cursor, Usage);
}

/* One line a pointer: where, what it holds, and the symbol that value falls in, if any. */
static VOID dump_pointers(ULONG64 Address, ULONG64 Count)
{
    CHAR where[24], value_text[24], symbol[96];
    ULONG64 value;

    for (ULONG64 i = 0; i < Count; i++, Address += 8) {
        KdFormatAddress(Address, where, sizeof(where));
        if (!KdReadMemory(Address, &value, sizeof(value))) {
            DbgPrint("%s  ????????`????????\n", where);
            continue;
        }
        KdFormatAddress(value, value_text, sizeof(value_text));
        if (KiFormatSymbol(value, symbol, sizeof(symbol)))
            DbgPrint("%s  %s %s\n", where, value_text, symbol);
        else
            DbgPrint("%s  %s\n", where, value_text);
    }
}

static VOID pointers_command(PCSTR Args, PCSTR Usage)
{
    ULONG64 address = KdPointersNext, count = DPS_COUNT;
    CHAR word[96];

    if (KdAtEnd(Args) && !KdPointersNextValid) {
        DbgPrint("Missing address; usage: %s\n", Usage);
        return;
    }
    if (!KdAtEnd(Args) && !KdNextValue(&Args, &address, TRUE, "address"))
        return;
    if (KdNextWord(&Args, word, sizeof(word)) && !pointer_count(&Args, word, Usage, &count))
        return;
    ULONG64 room = address == 0 ? ~0ull / 8 : (0 - address) / 8; /* never wrap past the top */
    if (room == 0) {
        DbgPrint("No whole pointer fits between %llx and the top of the address space\n", address);
        return;
    }
    if (count > room)
        count = room;
    dump_pointers(address, count);
    KdPointersNext = address + count * 8;
    KdPointersNextValid = KdPointersNext != 0;
}

KD_COMMAND(dps, "dps", "dps [address] [L<count>]", "pointers, each with its symbol (no address: go on)")
{
    pointers_command(Args, "dps [address] [L<count>]");
}

KD_COMMAND(dqs, "dqs", "dqs [address] [L<count>]", "quadwords, each with its symbol (dps on x64)")
{
    pointers_command(Args, "dqs [address] [L<count>]");
}
