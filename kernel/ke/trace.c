/*
 * trace.c - the event recorder: one buffer per processor, no lock.
 *
 * As ETW assigns a buffer to each processor, lock free, and counts lost
 * events (https://learn.microsoft.com/en-us/previous-versions/windows/desktop/xperf/sessions),
 * each CPU writes only its own buffer, so recording never waits for another CPU and
 * works at any IRQL, inside an NMI too.  A slot is claimed with a
 * compare-exchange (without lock: no other CPU writes it) on the CPU's own
 * counter (an interrupt or NMI that records in between makes it fail, and it
 * is tried again with a new timestamp) and filled, the record's Type last.  A full
 * buffer does not wrap and never stalls: the claim counter keeps counting,
 * and everything past the capacity is an exactly counted drop.
 *
 * Interrupts stay on while recording: an interrupt that records in the
 * middle of another record only makes its claim fail once.  Busy counts the records this CPU is in the middle of: only this
 * CPU changes it and every nested recorder puts it back, so plain increments
 * are safe.  Emptying the buffers (KeStartTrace) runs on every CPU inside
 * KeIpiGenericCall; an IPI that finds its CPU inside the recorder leaves the
 * emptying to that record's end (ResetPending), so no record is ever cut.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include "ki.h"
#include "kitrace.h"

KE_COMMAND_LINE_OPTION(trace, "trace", "trace=<categories>: record events from boot: default, all, off, or a list "
                                       "of interrupt,dpc,irql,ipi,timer,lock,watchdog,bugcheck (!trace)");
KE_COMMAND_LINE_OPTION(tracebuffer, "tracebuffer", "tracebuffer=<KiB>: each processor's trace buffer, 4-4096 (96)");

typedef struct _KI_TRACE_BUFFER {
    volatile ULONG64 Next;         /* slots claimed; each one past Capacity is a dropped event */
    ULONG Capacity;
    volatile ULONG Busy;           /* records this CPU is in the middle of (nested) */
    volatile ULONG ResetPending;   /* an emptying waits for the record in progress */
    ULONG64 StartTsc;
    KTRACE_RECORD Records[];
} KI_TRACE_BUFFER;

volatile ULONG KiTraceMask;
static ULONG KiTraceSessionMask;  /* what the last KeStartTrace asked for */
static ULONG64 KiTraceStopTsc;    /* when it stopped; 0 while it runs */
static KI_TRACE_BUFFER *KiTraceBuffers[MAXIMUM_PROCESSORS];
static KBUGCHECK_CALLBACK_RECORD KiTraceBugCheckRecord;
static ULONG KiTraceKib = 96;     /* each buffer's size (tracebuffer=) */

static const char *const KiTraceCategoryNames[] = {
    "interrupt", "dpc", "irql", "ipi", "timer", "lock", "watchdog", "bugcheck", "cswitch", "apc",
};

/* This CPU empties its own buffer: from the IPI, or at the end of the record the IPI found. */
static VOID empty_buffer(KI_TRACE_BUFFER *b)
{
    ULONG64 used = b->Next < b->Capacity ? b->Next : b->Capacity;

    memset(b->Records, 0, used * sizeof(KTRACE_RECORD));
    b->StartTsc = arch_rdtsc();
    b->ResetPending = 0;
    __atomic_store_n(&b->Next, 0, __ATOMIC_RELEASE);
}

/* This CPU's number in one GS-relative load (KPCR.Prcb.Number), without a call. */
static inline ULONG this_processor(VOID)
{
    return (ULONG)arch_gs_read64(offsetof(KPCR, Prcb) + offsetof(KPRCB, Number));
}

VOID KiTraceWrite(UCHAR Type, UCHAR Irql, USHORT Data16, ULONG Data32, ULONG64 Data64)
{
    KI_TRACE_BUFFER *b = KiTraceBuffers[this_processor()];

    if (b == NULL)
        return;
    b->Busy++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the compiler keeps the claim inside Busy */
    /* The timestamp is read before the claim, and read again if an interrupt recorded in between:
     * so the records of one CPU are in timestamp order, nested ones included. */
    ULONG64 slot = __atomic_load_n(&b->Next, __ATOMIC_RELAXED), tsc;
    do
        tsc = arch_rdtsc();
    while (!arch_local_cmpxchg64(&b->Next, &slot, slot + 1)); /* no lock: only this CPU writes Next */
    if (slot < b->Capacity) {
        PKTRACE_RECORD r = &b->Records[slot];
        r->Tsc = tsc;
        r->Irql = Irql != KI_TRACE_READ_IRQL ? Irql : (UCHAR)arch_read_cr8();
        r->Data16 = Data16;
        r->Data32 = Data32;
        r->Data64 = Data64;
        __atomic_store_n(&r->Type, Type, __ATOMIC_RELEASE);
    }
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (--b->Busy == 0 && b->ResetPending)
        empty_buffer(b);
}

ULONG KeQueryTraceCategories(VOID)
{
    return KiTraceMask;
}

ULONG KeQueryTraceSession(ULONG64 *StopTsc)
{
    *StopTsc = KiTraceStopTsc;
    return KiTraceSessionMask;
}

VOID KeTraceMark(ULONG Value)
{
    if (KiTraceMask != 0)
        KiTraceWrite(KTRACE_MARK, KI_TRACE_READ_IRQL, 0, Value, 0);
}

/* In KeIpiGenericCall, on every CPU: empty this CPU's buffer now, or once the record it interrupted ends. */
static ULONG_PTR empty_here(ULONG_PTR Context)
{
    KI_TRACE_BUFFER *b = KiTraceBuffers[KeGetCurrentPrcb()->Number];

    UNREFERENCED_PARAMETER(Context);
    if (b != NULL && b->Busy != 0)
        b->ResetPending = 1;
    else if (b != NULL)
        empty_buffer(b);
    return 0;
}

/* In KeIpiGenericCall: nothing to do; once every CPU took it, none can begin a record. */
static ULONG_PTR nothing_here(ULONG_PTR Context)
{
    return Context;
}

/* After the stop: a record an interrupt found in progress ends within microseconds. */
static VOID wait_for_records(VOID)
{
    for (LONG n = 0; n < KeNumberProcessors; n++)
        for (ULONG spins = 0; KiTraceBuffers[n] && KiTraceBuffers[n]->Busy && spins < 1000000; spins++)
            arch_pause();
}

/* PASSIVE_LEVEL: the buffers of every started CPU, the first time a trace starts (no cost at boot
 * for a kernel that never traces). */
static BOOLEAN allocate_buffers(VOID)
{
    ULONG pages = (KiTraceKib + 3) / 4;

    for (LONG n = 0; n < KeNumberProcessors; n++) {
        if (KiTraceBuffers[n] != NULL)
            continue;
        KI_TRACE_BUFFER *b = MmAllocateKernelPages(pages);
        if (b == NULL) {
            DbgPrint("trace: no memory for processor %d's %u KiB buffer\n", n, KiTraceKib);
            return FALSE;
        }
        b->Capacity = (ULONG)(((ULONG64)pages * 4096 - sizeof(*b)) / sizeof(KTRACE_RECORD));
        __atomic_store_n(&KiTraceBuffers[n], b, __ATOMIC_RELEASE);
    }
    return TRUE;
}

BOOLEAN KeStartTrace(ULONG Categories)
{
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    if (!allocate_buffers())
        return FALSE;
    __atomic_store_n(&KiTraceMask, 0, __ATOMIC_SEQ_CST);
    KeIpiGenericCall(empty_here, 0);
    KiTraceSessionMask = Categories & KTRACE_CAT_ALL;
    KiTraceStopTsc = 0;
    __atomic_store_n(&KiTraceMask, KiTraceSessionMask, __ATOMIC_SEQ_CST);
    return TRUE;
}

VOID KeStopTrace(VOID)
{
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    __atomic_store_n(&KiTraceMask, 0, __ATOMIC_SEQ_CST);
    if (KiTraceStopTsc == 0)
        KiTraceStopTsc = arch_rdtsc();
    /* Every CPU sees the mask at 0 once it took this IPI: no record begins after it. */
    KeIpiGenericCall(nothing_here, 0);
    wait_for_records();
}

BOOLEAN KeQueryTraceProcessor(ULONG Processor, KTRACE_STATS *Stats)
{
    KI_TRACE_BUFFER *b = Processor < MAXIMUM_PROCESSORS ? KiTraceBuffers[Processor] : NULL;

    if (b == NULL)
        return FALSE;
    ULONG64 next = __atomic_load_n(&b->Next, __ATOMIC_ACQUIRE);
    Stats->Capacity = b->Capacity;
    Stats->Recorded = next < b->Capacity ? (ULONG)next : b->Capacity;
    Stats->Dropped = next > b->Capacity ? next - b->Capacity : 0;
    Stats->Torn = 0;
    for (ULONG i = 0; i < Stats->Recorded; i++)
        if (__atomic_load_n(&b->Records[i].Type, __ATOMIC_ACQUIRE) == KTRACE_NONE)
            Stats->Torn++;
    Stats->StartTsc = b->StartTsc;
    return TRUE;
}

const KTRACE_RECORD *KeQueryTraceRecord(ULONG Processor, ULONG Index)
{
    KTRACE_STATS stats;

    if (!KeQueryTraceProcessor(Processor, &stats) || Index >= stats.Recorded)
        return NULL;
    return &KiTraceBuffers[Processor]->Records[Index];
}

static BOOLEAN category_word(PCSTR Word, SIZE_T Length, ULONG *Mask)
{
    static const struct { PCSTR Name; ULONG Mask; } sets[] = {
        { "default", KTRACE_CAT_DEFAULT }, { "all", KTRACE_CAT_ALL }, { "off", 0 }, { "none", 0 },
    };
    for (ULONG i = 0; i < ARRAYSIZE(sets); i++)
        if (strlen(sets[i].Name) == Length && strncmp(sets[i].Name, Word, Length) == 0) {
            *Mask |= sets[i].Mask;
            return TRUE;
        }
    for (ULONG i = 0; i < ARRAYSIZE(KiTraceCategoryNames); i++)
        if (strlen(KiTraceCategoryNames[i]) == Length && strncmp(KiTraceCategoryNames[i], Word, Length) == 0) {
            *Mask |= 1u << i;
            return TRUE;
        }
    return FALSE;
}

BOOLEAN KeParseTraceCategories(PCSTR Text, ULONG *Mask, PCSTR *Bad)
{
    *Mask = 0;
    while (*Text) {
        PCSTR comma = strchr(Text, ',');
        SIZE_T length = comma ? (SIZE_T)(comma - Text) : strlen(Text);
        if (!category_word(Text, length, Mask)) {
            *Bad = Text;
            return FALSE;
        }
        Text += length + (comma != NULL);
    }
    return TRUE;
}

VOID KeFormatTraceCategories(ULONG Mask, char *Buffer, SIZE_T Size)
{
    SIZE_T used = 0;

    Buffer[0] = '\0';
    for (ULONG i = 0; i < ARRAYSIZE(KiTraceCategoryNames) && used < Size; i++)
        if (Mask & (1u << i))
            used += (SIZE_T)RtlFormat(Buffer + used, Size - used, "%s%s", used ? "," : "", KiTraceCategoryNames[i]);
    if (used == 0)
        RtlFormat(Buffer, Size, "off");
}

/* After the report, the other CPUs frozen: the trace leaves on COM2 if it is recording. */
static VOID dump_on_bugcheck(PVOID Buffer, ULONG Length)
{
    ULONG crc;

    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
    if (KiTraceMask == 0)
        return;
    __atomic_store_n(&KiTraceMask, 0, __ATOMIC_SEQ_CST);
    KiTraceStopTsc = arch_rdtsc();
    ULONG64 bytes = KeDumpTrace(&crc);
    if (bytes != 0)
        DbgPrint("trace: wrote %llu bytes to COM2 (crc32 %08x)\n", bytes, crc);
}

static VOID start_from_command_line(ULONG Kib)
{
    PCSTR value = KeGetCommandLineValue("trace"), bad = NULL;
    ULONG mask;
    char names[96];

    if (value == NULL)
        return;
    if (!KeParseTraceCategories(value, &mask, &bad)) {
        DbgPrint("trace: '%s' names no category (default, all, off, interrupt, dpc, irql, ipi, timer, lock, "
                 "watchdog, bugcheck); not tracing\n", bad);
        return;
    }
    if (mask == 0 || !KeStartTrace(mask))
        return;
    KeFormatTraceCategories(mask, names, sizeof(names));
    DbgPrint("trace: recording %s, %u KiB a processor\n", names, Kib);
}

VOID KeInitializeTrace(VOID)
{
    KiTraceKib = KeGetCommandLineNumber("tracebuffer", 4, 4096, 96);
    arch_serial2_init();
    KeRegisterBugCheckCallback(&KiTraceBugCheckRecord, dump_on_bugcheck, NULL, 0, (PUCHAR)"trace");
    start_from_command_line(KiTraceKib);
}
