/*
 * cmd_mem.c - db, dd and dq: memory as bytes (with their characters),
 * ULONGs or ULONG64s, 16 bytes a line from the address given, as WinDbg
 * prints them.  What cannot be read shows as ?? and the dump goes on; with
 * no address, a command continues where the last dump ended (WinDbg too).
 */
#include <irqlab/rtl.h>
#include "kd.h"

#define DUMP_LINE 16
#define DUMP_LIMIT 0x10000 /* bytes in one command: a serial console, not a hex editor */

static ULONG64 KdDumpNext;
static BOOLEAN KdDumpNextValid;

/* One line's units; Valid[i] is FALSE for a unit that could not be read. */
static VOID read_line(ULONG64 Address, ULONG Unit, ULONG Units, UCHAR *Bytes, BOOLEAN *Valid)
{
    if (KdReadMemory(Address, Bytes, Unit * Units)) {
        for (ULONG i = 0; i < Units; i++)
            Valid[i] = TRUE;
        return;
    }
    for (ULONG i = 0; i < Units; i++) /* a page boundary or a hole inside the line */
        Valid[i] = KdReadMemory(Address + (ULONG64)i * Unit, Bytes + i * Unit, Unit);
}

static VOID print_unit(const UCHAR *Bytes, ULONG Unit, BOOLEAN Valid, ULONG Index)
{
    ULONG64 value = 0;

    memcpy(&value, Bytes, Unit);
    if (Unit == 1)
        DbgPrint(Valid ? "%s%02llx" : "%s??", Index == 0 ? "" : Index == 8 ? "-" : " ", value);
    else if (Unit == 4)
        DbgPrint(Valid ? " %08llx" : " ????????", value);
    else if (Valid)
        DbgPrint(" %08llx`%08llx", value >> 32, value & 0xffffffff);
    else
        DbgPrint(" ????????`????????");
}

static VOID print_characters(const UCHAR *Bytes, const BOOLEAN *Valid, ULONG Units)
{
    DbgPrint("%*s  ", (int)(DUMP_LINE - Units) * 3, "");
    for (ULONG i = 0; i < Units; i++)
        DbgPrint("%c", !Valid[i] ? '?' : Bytes[i] >= ' ' && Bytes[i] <= '~' ? Bytes[i] : '.');
}

static VOID dump(ULONG64 Address, ULONG Unit, ULONG64 Count)
{
    UCHAR bytes[DUMP_LINE];
    BOOLEAN valid[DUMP_LINE];
    CHAR text[24];

    for (ULONG64 done = 0; done < Count;) {
        ULONG units = Count - done < DUMP_LINE / Unit ? (ULONG)(Count - done) : DUMP_LINE / Unit;
        ULONG64 at = Address + done * Unit;
        read_line(at, Unit, units, bytes, valid);
        KdFormatAddress(at, text, sizeof(text));
        DbgPrint("%s ", text);
        if (Unit == 1)
            DbgPrint(" ");
        for (ULONG i = 0; i < units; i++)
            print_unit(bytes + i * Unit, Unit, valid[i], i);
        if (Unit == 1)
            print_characters(bytes, valid, units);
        DbgPrint("\n");
        done += units;
    }
    KdDumpNext = Address + Count * Unit;
    KdDumpNextValid = KdDumpNext != 0; /* 0: it ended at the top, and addresses do not wrap */
}

/* Units from Address up to the top of the address space (2^64); a dump never wraps to 0. */
static ULONG64 units_below_top(ULONG64 Address, ULONG Unit)
{
    return Address == 0 ? ~0ull / Unit : (0 - Address) / Unit;
}

/* `L<count>` or `L <count>`, in units; FALSE (said why) when it is bad or too large. */
static BOOLEAN parse_count(PCSTR *Cursor, PCSTR Word, ULONG Unit, PCSTR Usage, ULONG64 *Count)
{
    if ((Word[0] != 'L' && Word[0] != 'l')) {
        DbgPrint("Expected L<count> after the address, not '%s'; usage: %s\n", Word, Usage);
        return FALSE;
    }
    if (Word[1] ? !KdEvaluateText(Word + 1, Count) : !KdNextValue(Cursor, Count, TRUE, "count after L"))
        return FALSE;
    if (*Count == 0 || *Count > DUMP_LIMIT / Unit) {
        DbgPrint("Range error: L%llx; a dump is 1 to 0x%x units of %u bytes\n", *Count, DUMP_LIMIT / Unit,
                 Unit);
        return FALSE;
    }
    return KdNoMoreArguments(*Cursor, Usage);
}

static VOID dump_command(PCSTR Args, ULONG Unit, PCSTR Usage)
{
    ULONG64 address = KdDumpNext, count = 0x80 / Unit; /* WinDbg's default: 128 bytes */
    CHAR word[96];

    if (KdAtEnd(Args) && !KdDumpNextValid) {
        DbgPrint("Missing address; usage: %s\n", Usage);
        return;
    }
    if (!KdAtEnd(Args) && !KdNextValue(&Args, &address, TRUE, "address"))
        return;
    if (KdNextWord(&Args, word, sizeof(word)) && !parse_count(&Args, word, Unit, Usage, &count))
        return;
    ULONG64 room = units_below_top(address, Unit);
    if (room == 0) {
        DbgPrint("No whole %u-byte unit fits between %llx and the top of the address space\n", Unit, address);
        return;
    }
    if (count > room)
        count = room;
    dump(address, Unit, count);
    if (!KdDumpNextValid)
        DbgPrint("(the dump stops at the top of the address space)\n");
}

KD_COMMAND(db, "db", "db [address] [L<count>]", "dump memory as bytes and characters (no address: go on)")
{
    dump_command(Args, 1, "db [address] [L<count>]");
}

KD_COMMAND(dd, "dd", "dd [address] [L<count>]", "dump memory as ULONGs (no address: go on)")
{
    dump_command(Args, 4, "dd [address] [L<count>]");
}

KD_COMMAND(dq, "dq", "dq [address] [L<count>]", "dump memory as ULONG64s (no address: go on)")
{
    dump_command(Args, 8, "dq [address] [L<count>]");
}
