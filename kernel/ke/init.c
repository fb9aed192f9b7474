/*
 * init.c - from the loader's jump to the idle loop.
 *
 * Phase 0 runs on the small boot stack in .bss with the loader's page
 * tables: descriptor tables first (so any fault is a readable bugcheck),
 * then the boot record, memory, and our own page tables.  Phase 1 runs on a
 * guarded kernel stack, starts the other processors, and decides between
 * the test runner and the console.  NT's equivalents are KiSystemStartup and
 * the phase 0/1 initialisation.
 */
#include <arch/arch.h>
#include <irqlab/bootinfo.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include "../io/i8042prt.h"
#include "ki.h"
#include "../kd/kd.h"

static void check_boot_record(const struct irqlab_bootinfo *bi, ULONG64 phys)
{
    if (bi->magic != IRQLAB_BOOTINFO_MAGIC || bi->version != IRQLAB_BOOTINFO_VERSION ||
        bi->size != sizeof(*bi)) {
        DbgPrint("irqlab: the boot record at %llx is not one this kernel knows "
                 "(magic %llx version %u size %u, expected version %u size %u)\n",
                 phys, (ULONG64)bi->magic, bi->version, bi->size, IRQLAB_BOOTINFO_VERSION, (ULONG)sizeof(*bi));
        KeBugCheckEx(LOADER_BLOCK_MISMATCH, 3, bi->version, bi->size, phys);
    }
}

static ULONG64 ram_bytes(const struct irqlab_bootinfo *bi)
{
    const struct irqlab_mem_range *r = MmDirectMap(bi->memmap);
    ULONG64 bytes = 0;

    for (uint32_t i = 0; i < bi->memmap_count; i++)
        if (r[i].type == IRQLAB_MEM_USABLE || r[i].type == IRQLAB_MEM_LOADER ||
            r[i].type == IRQLAB_MEM_ACPI_RECLAIM)
            bytes += r[i].pages * PAGE_SIZE;
    return bytes;
}

static void print_banner(const struct irqlab_bootinfo *bi)
{
    char vendor[13];

    arch_cpu_vendor(vendor);
    DbgPrint("\nirqlab %s booting on %s, %llu MiB\n", KiVersionString, vendor, ram_bytes(bi) >> 20);
    DbgPrint("boot: command line '%s'\n", bi->cmdline);
    DbgPrint("boot: %u memory ranges, ACPI RSDP %llx (revision %u), framebuffer %s\n",
             bi->memmap_count, (ULONG64)bi->rsdp, bi->rsdp_revision, bi->fb.base ? "present" : "none");
}

static DECLSPEC_NORETURN void KiSystemStartupPhase1(void *Context)
{
    const struct irqlab_bootinfo *bi = Context;

    DbgPrint("mm: %llu KiB free of %llu KiB managed; page tables W^X, NX %s; guarded stacks\n",
             MmGetFreePageCount() * 4, MmGetManagedPageCount() * 4,
             arch_mmu_nx_enabled() ? "on" : "unavailable");
    KiInitializeHal(bi->rsdp);
    KiInitializeIpi();
    KiInitializeDpc();
    KiInitializeClock();
    KiInitializeRunTime();
    /* From here on the CPU takes interrupts; CR8 (IRQL) decides which. */
    arch_enable_interrupts();
    KiStartProcessors();
    KiProcessorsUpTsc = arch_rdtsc();
    I8042Initialize();
    if (KiTestsRequested())
        KiRunTests();
    if (KiBenchmarksRequested())
        KiRunBenchmarks();
    KdConsoleLoop();
}

ULONG64 KiBootTsc, KiProcessorsUpTsc;

void KiSystemStartup(ULONG64 BootInfoPhysical)
{
    KiBootTsc = arch_rdtsc();
    const struct irqlab_bootinfo *bi = MmDirectMap(BootInfoPhysical);
    PKI_PROCESSOR boot = KiBootProcessorBlock();

    /* GS and the descriptor tables first: from here a fault is a readable bugcheck. */
    KiInitializeProcessorBlock(boot, 0, 0);
    arch_cpu_init(boot->ArchTables, &boot->Pcr, NULL);
    boot->Pcr.Prcb.ClockOwner = TRUE;
    KiAddActiveProcessor(&boot->Pcr.Prcb);
    arch_serial_init();
    check_boot_record(bi, BootInfoPhysical);
    print_banner(bi);
    KiParseCommandLine(bi->cmdline);
    MmInitializePfnDatabase(bi);
    arch_mmu_init(bi);
    if (!KiAllocateProcessorStacks(boot))
        KeBugCheckEx(INSTALL_MORE_MEMORY, MmGetFreePageCount(), 0, 0, 0);
    arch_cpu_set_ist_stacks(boot->ArchTables, boot->StackTop[KI_STACK_DOUBLE_FAULT],
                            boot->StackTop[KI_STACK_NMI], boot->StackTop[KI_STACK_MACHINE_CHECK]);
    arch_switch_stack(boot->StackTop[KI_STACK_KERNEL], KiSystemStartupPhase1, (void *)bi);
}
