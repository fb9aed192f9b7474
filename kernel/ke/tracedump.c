/*
 * tracedump.c - the trace leaves the machine: every processor's records,
 * the names of the routines they mention and a CRC-32, written to the
 * second serial port (QEMU: the second -serial, a file), so that the dump
 * never garbles the console on COM1.  The format is docs/trace-format.md;
 * tools/trace reads it.
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include "ki.h"
#include "kitrace.h"

#define TRACE_VERSION     1
#define CPU_MAGIC         0x42555043u /* "CPUB" */
#define MAX_SYMBOLS       1024        /* a power of two: an open-addressing table */
#define FLAG_BUGCHECK     0x1u        /* written by the bugcheck */

typedef struct _TRACE_FILE_HEADER {
    char Magic[8]; /* "IRQLTRC1" */
    USHORT Version, HeaderSize, RecordSize, Processors;
    ULONG Categories, Flags;
    ULONG64 TscFrequency, StartTsc, StopTsc;
    ULONG SymbolCount, Reserved;
    ULONG64 Reserved2;
} TRACE_FILE_HEADER;
_Static_assert(sizeof(TRACE_FILE_HEADER) == 64, "docs/trace-format.md: the header is 64 bytes");

typedef struct _TRACE_CPU_HEADER {
    ULONG Magic, Number, Count, Torn;
    ULONG64 Dropped, StartTsc;
} TRACE_CPU_HEADER;
_Static_assert(sizeof(TRACE_CPU_HEADER) == 32, "docs/trace-format.md: a processor's header is 32 bytes");

static ULONG KiCrcTable[256];
static ULONG64 KiSymbols[MAX_SYMBOLS]; /* the routines the records name, by address; 0: empty */
static ULONG KiSymbolCount;

static VOID crc_init(VOID)
{
    for (ULONG i = 0; i < 256; i++) {
        ULONG c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1; /* zlib's CRC-32, reflected */
        KiCrcTable[i] = c;
    }
}

/* Everything leaves through here: COM2 and the running CRC. */
static VOID emit(const void *Data, SIZE_T Length, ULONG *Crc, ULONG64 *Bytes)
{
    const UCHAR *p = Data;

    for (SIZE_T i = 0; i < Length; i++)
        *Crc = KiCrcTable[(*Crc ^ p[i]) & 0xff] ^ (*Crc >> 8);
    arch_serial2_write(Data, Length);
    *Bytes += Length;
}

/* A routine's address from the low 32 bits a record keeps (the image is in the top 2 GiB). */
static ULONG64 code_address(ULONG Low)
{
    return (ULONG64)(LONG64)(LONG)Low;
}

static VOID note_symbol(ULONG Low)
{
    ULONG64 address = code_address(Low);

    if (Low == 0 || KiSymbolCount >= MAX_SYMBOLS / 2)
        return;
    for (ULONG h = (Low >> 4) & (MAX_SYMBOLS - 1);; h = (h + 1) & (MAX_SYMBOLS - 1)) {
        if (KiSymbols[h] == address)
            return;
        if (KiSymbols[h] == 0) {
            KiSymbols[h] = address;
            KiSymbolCount++;
            return;
        }
    }
}

static BOOLEAN names_code(UCHAR Type)
{
    return Type == KTRACE_INTERRUPT_ENTER || Type == KTRACE_DPC_BEGIN || Type == KTRACE_TIMER_EXPIRE ||
           Type == KTRACE_IRQL_RAISE || Type == KTRACE_IRQL_LOWER;
}

static ULONG collect_symbols(ULONG Processors)
{
    KTRACE_STATS stats;

    memset(KiSymbols, 0, sizeof(KiSymbols));
    KiSymbolCount = 0;
    for (ULONG n = 0; n < Processors; n++) {
        if (!KeQueryTraceProcessor(n, &stats))
            continue;
        for (ULONG i = 0; i < stats.Recorded; i++) {
            const KTRACE_RECORD *r = KeQueryTraceRecord(n, i);
            if (names_code(r->Type))
                note_symbol(r->Data32);
        }
    }
    return KiSymbolCount;
}

static VOID emit_symbols(ULONG *Crc, ULONG64 *Bytes)
{
    char name[96];

    for (ULONG h = 0; h < MAX_SYMBOLS; h++) {
        if (KiSymbols[h] == 0)
            continue;
        KiFormatSymbol(KiSymbols[h], name, sizeof(name));
        USHORT length = (USHORT)strlen(name);
        emit(&KiSymbols[h], sizeof(KiSymbols[h]), Crc, Bytes);
        emit(&length, sizeof(length), Crc, Bytes);
        emit(name, length, Crc, Bytes);
    }
}

static VOID emit_processor(ULONG Number, ULONG *Crc, ULONG64 *Bytes)
{
    KTRACE_STATS stats;
    TRACE_CPU_HEADER h = { CPU_MAGIC, Number, 0, 0, 0, 0 };

    if (KeQueryTraceProcessor(Number, &stats)) {
        h.Count = stats.Recorded;
        h.Torn = stats.Torn;
        h.Dropped = stats.Dropped;
        h.StartTsc = stats.StartTsc;
    }
    emit(&h, sizeof(h), Crc, Bytes);
    if (h.Count != 0)
        emit(KeQueryTraceRecord(Number, 0), (SIZE_T)h.Count * sizeof(KTRACE_RECORD), Crc, Bytes);
}

ULONG64 KeDumpTrace(ULONG *Crc)
{
    TRACE_FILE_HEADER h = { "IRQLTRC1", TRACE_VERSION, sizeof(TRACE_FILE_HEADER), sizeof(KTRACE_RECORD), 0,
                            0, 0, 0, 0, 0, 0, 0, 0 };
    KTRACE_STATS stats;
    ULONG crc = 0xffffffffu;
    ULONG64 bytes = 0;

    if (!arch_serial2_init())
        return 0;
    crc_init();
    h.Processors = (USHORT)KeNumberProcessors;
    h.Categories = KeQueryTraceSession(&h.StopTsc);
    h.Flags = KiBugCheckInProgress() ? FLAG_BUGCHECK : 0;
    h.TscFrequency = KeQueryTscFrequency(NULL);
    h.StartTsc = KeQueryTraceProcessor(0, &stats) ? stats.StartTsc : 0;
    if (h.StopTsc == 0)
        h.StopTsc = arch_rdtsc();
    h.SymbolCount = collect_symbols(h.Processors);
    emit(&h, sizeof(h), &crc, &bytes);
    for (ULONG n = 0; n < h.Processors; n++)
        emit_processor(n, &crc, &bytes);
    emit_symbols(&crc, &bytes);
    ULONG total = (ULONG)bytes;
    crc ^= 0xffffffffu;
    arch_serial2_write("IRQLEND1", 8);
    arch_serial2_write(&crc, sizeof(crc));
    arch_serial2_write(&total, sizeof(total));
    *Crc = crc;
    return bytes + 16;
}
