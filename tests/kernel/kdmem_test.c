/*
 * kdmem_test.c - the console's structure and memory dumps: `dt` shows NT's
 * 19041 offsets and reads each field as WinDbg prints it; db/dd/dq print
 * what memory holds, ?? where nothing can be read, and go on where the last
 * dump ended; a wild address or a bad argument is one line, never a fault.
 */
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kd.h>
#include <irqlab/kequery.h>
#include "kdcapture.h"

static VOID KtDtRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
}

TEST(kdmem, dt_shows_the_19041_dpc_layout)
{
    PCSTR out = KtRun("dt _KPRCB", 0);
    CHECK_LINE(out, "   +0x30c0 DpcData          : [2] _KDPC_DATA");
    CHECK_LINE(out, "   +0x3110 DpcStack         : Ptr64 Void");
    CHECK_LINE(out, "   +0x7ba0 CallDpc          : _KDPC");
    out = KtRun("dt nt!_KDPC_DATA", 0);
    CHECK_LINE(out, "   +0x018 DpcQueueDepth    : Int4B");
    CHECK_LINE(out, "   +0x020 ActiveDpc        : Ptr64 _KDPC");
    CHECK(strncmp(out, "   +0x000", 9) == 0); /* a module-qualified name prints no module line */
    out = KtRun("dt KDPC", 0);
    CHECK_LINE(out, "irqlab!_KDPC");
    CHECK_LINE(out, "   +0x038 DpcData          : Ptr64 Void");
}

TEST(kdmem, dt_reads_each_field_of_a_dpc)
{
    static KDPC dpc;
    char line[96];

    KeInitializeDpc(&dpc, KtDtRoutine, NULL);
    KeSetImportanceDpc(&dpc, HighImportance);
    dpc.SystemArgument1 = (PVOID)0xfffff80041509b50ull;
    PCSTR out = KtRun("dt _KDPC %llx", (ULONG64)&dpc);
    CHECK_LINE(out, "   +0x000 Type             : 0x13 ''");
    CHECK_LINE(out, "   +0x001 Importance       : 0x2 ''");
    CHECK_LINE(out, "   +0x002 Number           : 0");
    CHECK_LINE(out, "   +0x028 SystemArgument1  : 0xfffff800`41509b50 Void");
    CHECK_LINE(out, "   +0x038 DpcData          : (null) ");
    RtlFormat(line, sizeof(line),
              "   +0x018 DeferredRoutine  : 0x%08llx`%08llx     void  irqlab!KtDtRoutine+0",
              (ULONG64)KtDtRoutine >> 32, (ULONG64)KtDtRoutine & 0xffffffff);
    CHECK_LINE(out, line);
    out = KtRun("dt _KDPC %llx -y Deferred", (ULONG64)&dpc);
    CHECK_LINE(out, line);
    CHECK_LINE(out, "   +0x020 DeferredContext  : (null) ");
    CHECK_EQ(KtCountLines(out), 3); /* the module line and the two Deferred* fields, nothing else */
}

TEST(kdmem, dt_reads_a_live_dpc_queue)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    KIRQL old;
    static KDPC dpc;

    KeInitializeDpc(&dpc, KtDtRoutine, NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &old); /* queued, and not drained until we lower */
    KeInsertQueueDpc(&dpc, NULL, NULL);
    ULONG count = prcb->DpcData[0].DpcCount;
    PCSTR out = KtRun("dt _KDPC_DATA %llx", (ULONG64)&prcb->DpcData[0]);
    KeLowerIrql(old);
    char line[96];
    CHECK_LINE(out, "   +0x018 DpcQueueDepth    : 0n1");
    RtlFormat(line, sizeof(line), "   +0x01c DpcCount         : 0x%x", count);
    CHECK_LINE(out, line);
    out = KtRun("dt _KDPC_DATA %llx -r1", (ULONG64)&prcb->DpcData[0]);
    CHECK_LINE(out, "      +0x000 ListHead         : _SINGLE_LIST_ENTRY");
    CHECK_LINE(out, "   +0x018 DpcQueueDepth    : 0n0");
}

TEST(kdmem, dd_dq_db_print_what_memory_holds)
{
    static const ULONG words[8] = {0x11111111, 0xdeadbeef, 0, 0x7fffffff, 0x41424344, 0x00000a00, 1, 2};
    char line[96];
    ULONG64 at = (ULONG64)words;

    RtlFormat(line, sizeof(line), "%08llx`%08llx  11111111 deadbeef 00000000 7fffffff", at >> 32,
              at & 0xffffffff);
    CHECK_LINE(KtRun("dd %llx L4", at), line);
    CHECK_EQ(KtCountLines(KtConsoleText), 1);
    RtlFormat(line, sizeof(line), "%08llx`%08llx  41424344 00000a00 00000001 00000002", (at + 16) >> 32,
              (at + 16) & 0xffffffff);
    CHECK_LINE(KtRun("dd", 0), line); /* no address: where the last dump ended */
    RtlFormat(line, sizeof(line), "%08llx`%08llx  deadbeef`11111111 7fffffff`00000000", at >> 32,
              at & 0xffffffff);
    CHECK_LINE(KtRun("dq %llx L2", at), line);
    RtlFormat(line, sizeof(line), "%08llx`%08llx  44 43 42 41 00 0a                                DCBA..",
              (at + 16) >> 32, (at + 16) & 0xffffffff);
    CHECK_LINE(KtRun("db %llx L0n6", at + 16), line);
}

TEST(kdmem, unreadable_memory_is_question_marks_not_a_fault)
{
    char *page = MmAllocateKernelPages(1); /* above an unmapped guard page */
    char line[96];

    REQUIRE(page != NULL);
    page[0] = 0x5a;
    ULONG64 at = (ULONG64)page - 8;
    RtlFormat(line, sizeof(line), "%08llx`%08llx  ???????? ???????? 0000005a 00000000", at >> 32,
              at & 0xffffffff);
    CHECK_LINE(KtRun("dd %llx L4", at), line);
    CHECK_LINE(KtRun("dq %llx L1", 0x8000000000000000ull), "80000000`00000000  ????????`????????");
    CHECK_LINE(KtRun("db 0 L2", 0), "00000000`00000000  ?? ??                                            ??");
    CHECK_LINE(KtRun("dt _KDPC 0", 0), "Memory access error at '00000000`00000000'");
    CHECK_LINE(KtRun("dt _KPRCB %llx", 0x8000000000000000ull), "Memory access error at '80000000`00000000'");
}

TEST(kdmem, bad_arguments_get_one_clear_line)
{
    CHECK(strncmp(KtRun("dt", 0), "usage: dt ", 10) == 0);
    CHECK(strncmp(KtRun("dt _NOPE", 0), "Symbol _NOPE not found.\n", 24) == 0);
    CHECK(strncmp(KtRun("dt foo!_KDPC", 0), "Symbol foo!_KDPC not found.\n", 28) == 0);
    CHECK_LINE(KtRun("dt _KDPC -q", 0),
               "Unknown option '-q'; usage: dt [-r[n]] [-a] [-y <prefix>] <type> [address] [field]");
    CHECK_LINE(KtRun("dt _KDPC KiProcessorBlock Nope", 0), "No field of _KDPC matches 'Nope'");
    CHECK_LINE(KtRun("dt _KDPC -y", 0),
               "-y needs a field name prefix; usage: dt [-r[n]] [-a] [-y <prefix>] <type> [address] [field]");
    CHECK_LINE(KtRun("dd 0 L0", 0), "Range error: L0; a dump is 1 to 0x4000 units of 4 bytes");
    CHECK_LINE(KtRun("db 0 Lffffffffffffffff", 0),
               "Range error: Lffffffffffffffff; a dump is 1 to 0x10000 units of 1 bytes");
    CHECK_LINE(KtRun("dq KiProcessorBlock 10", 0),
               "Expected L<count> after the address, not '10'; usage: dq [address] [L<count>]");
    CHECK_LINE(KtRun("dd KiProcessorBlock L4 5", 0), "Extra arguments '5'; usage: dd [address] [L<count>]");
}

/* WinDbg habits: @$prcb / $pcr for this CPU's blocks, nt!Name for a kernel symbol. */
TEST(kdmem, pseudo_registers_and_the_nt_module)
{
    char line[96];
    ULONG64 prcb = (ULONG64)KeGetCurrentPrcb(), pcr = (ULONG64)KeGetPcr();

    RtlFormat(line, sizeof(line), "Evaluate expression: %lld = %08llx`%08llx", (LONG64)prcb, prcb >> 32,
              prcb & 0xffffffff);
    CHECK_LINE(KtRun("? @$prcb", 0), line);
    CHECK_LINE(KtRun("? $prcb", 0), line);
    CHECK_LINE(KtRun("? @$pcr+0x180", 0), line);
    RtlFormat(line, sizeof(line), "Evaluate expression: %lld = %08llx`%08llx", (LONG64)pcr, pcr >> 32,
              pcr & 0xffffffff);
    CHECK_LINE(KtRun("? @$pcr", 0), line);
    RtlFormat(line, sizeof(line), "   +0x3110 DpcStack         : 0x%08llx`%08llx Void",
              (ULONG64)KeGetCurrentPrcb()->DpcStack >> 32,
              (ULONG64)KeGetCurrentPrcb()->DpcStack & 0xffffffff);
    CHECK_LINE(KtRun("dt nt!_KPRCB @$prcb -y DpcStack", 0), line);
    ULONG64 block = (ULONG64)KiProcessorBlock;
    RtlFormat(line, sizeof(line), "Evaluate expression: %lld = %08llx`%08llx", (LONG64)block, block >> 32,
              block & 0xffffffff);
    CHECK_LINE(KtRun("? nt!KiProcessorBlock", 0), line);
    CHECK_STR_EQ(KtRun("? @$nothing", 0), "Bad register error at '@$nothing'\n");
}

#include <irqlab/thread.h>

/* A held mutex and a semaphore, as Windows 10's dt prints their fields (offsets pinned in thread.h). */
TEST(kdmem, dt_shows_a_mutex_owner_and_a_semaphore_limit)
{
    static KMUTEX mutex;
    static KSEMAPHORE semaphore;
    char line[96];

    KeInitializeMutex(&mutex, 0);
    KeInitializeSemaphore(&semaphore, 2, 5);
    REQUIRE_EQ(KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    PCSTR out = KtRun("dt _KMUTANT %llx", (ULONG64)&mutex);
    RtlFormat(line, sizeof(line), "   +0x028 OwnerThread      : 0x%08llx`%08llx _KTHREAD",
              (ULONG64)KeGetCurrentThread() >> 32, (ULONG64)KeGetCurrentThread() & 0xffffffff);
    CHECK_LINE(out, line);
    KeReleaseMutex(&mutex, FALSE);
    out = KtRun("dt _KSEMAPHORE %llx", (ULONG64)&semaphore);
    CHECK_LINE(out, "   +0x018 Limit            : 0n5");
}
