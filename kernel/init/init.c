/*
 * init.c - the boot sequence, the top floor: the one place that knows every
 * component and starts them in order (docs/architecture.md, "Booting").
 *
 * Phase 0 runs on the small boot stack in .bss with the loader's page
 * tables: Ke's descriptor tables first (so any fault is a readable
 * bugcheck), then the boot record, the command line, memory and our own
 * page tables.  Phase 1 runs on a guarded kernel stack: the HAL, Ke's
 * interrupts, DPCs and clock, the other processors, the keyboard connected
 * to the console, then the test runner, the benchmark runner or the
 * console's own system thread; then the boot's thread ends.  NT's equivalents are KiSystemStartup, phase 0 and
 * Phase1Initialization (its ntos/init).
 */
#include <arch/arch.h>
#include <irqlab/bench.h>
#include <irqlab/bootinfo.h>
#include <irqlab/kbd.h>
#include <irqlab/kd.h>
#include <irqlab/keboot.h>
#include <irqlab/kequery.h>
#include <irqlab/mm.h>
#include <irqlab/test.h>
#include <irqlab/thread.h>
#include <irqlab/trace.h>

KE_COMMAND_LINE_OPTION(apic, "apic", "apic=xapic: use the xAPIC MMIO interface even when x2APIC exists");

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

static BOOLEAN force_xapic(void)
{
    PCSTR mode = KeGetCommandLineValue("apic");

    if (mode && strcmp(mode, "xapic") != 0)
        DbgPrint("apic: apic=%s is not known (apic=xapic is); ignoring it\n", mode);
    return mode && strcmp(mode, "xapic") == 0;
}

static DECLSPEC_NORETURN void Phase1Initialization(void *Context)
{
    const struct irqlab_bootinfo *bi = Context;

    DbgPrint("mm: %llu KiB free of %llu KiB managed; page tables W^X, NX %s; guarded stacks\n",
             MmGetFreePageCount() * 4, MmGetManagedPageCount() * 4,
             arch_mmu_nx_enabled() ? "on" : "unavailable");
    KeInitializeSystem(HalInitSystem(bi->rsdp, force_xapic()));
    KeStartAllProcessors();
    KeStartDpcThreads();
    KeInitializeTrace(); /* every started CPU's trace buffer; trace= starts recording */
    I8042Initialize(KbdClassServiceCallback, KbdClassInitialize()); /* the port feeds the class driver */
    KdStartKeyboardReader(); /* the console reads the class device with IRPs */
    KdInitializeDebugger();  /* breakpoints, break-in, kdbreak=bugcheck */
    if (KtTestsRequested())
        KtRunTests();
    if (BenchRequested())
        BenchRun();
    KdStartConsole();
    /* NT's phase 1 thread goes on as the zero page thread (the WRK's base/ntos/init/initos.c); here it ends. */
    KeTerminateThread(0);
}

/* The kernel's entry (arch/x86_64/entry.asm), interrupts off, on the boot stack. */
void KiSystemStartup(ULONG64 BootInfoPhysical)
{
    const struct irqlab_bootinfo *bi = MmDirectMap(BootInfoPhysical);

    KeInitializeBootProcessor();
    check_boot_record(bi, BootInfoPhysical);
    print_banner(bi);
    KeParseCommandLine(bi->cmdline);
    MmInitializePfnDatabase(bi, KeBugCheckEx);
    if (!arch_mmu_init(bi, MmAllocatePhysicalPage))
        KeBugCheckEx(INSTALL_MORE_MEMORY, MmGetFreePageCount(), 0, 0, 0);
    KeSwitchToKernelStack(Phase1Initialization, (void *)bi);
}
