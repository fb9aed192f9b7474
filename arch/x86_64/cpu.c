/*
 * cpu.c - a CPU's descriptor tables: GDT, TSS with IST stacks, IDT, each
 * CPU its own (as in NT, where the KPCR points at them), and its GS base.
 *
 * Selectors follow NT x64 (KGDT64_R0_CODE 0x10, KGDT64_R0_DATA 0x18,
 * KGDT64_SYS_TSS 0x40) so that `r` shows cs=0010 ss=0018 as in WinDbg.
 * irqlab has no user mode, so the user descriptors stay null.
 */
#include <arch/arch.h>
#include <irqlab/rtl.h>

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    ULONG64 rsp[3];
    ULONG64 reserved1;
    ULONG64 ist[7];
    ULONG64 reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "Intel SDM vol. 3, figure 8-11");

struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

struct __attribute__((packed)) table_register {
    uint16_t limit;
    ULONG64 base;
};

#define GDT_ENTRIES 10 /* up to the 16-byte TSS descriptor at 0x40 */

/* One CPU's tables; the kernel hands each CPU ARCH_CPU_TABLES_SIZE bytes for them. */
struct cpu_tables {
    struct idt_gate idt[256];
    ULONG64 gdt[GDT_ENTRIES];
    struct tss64 tss;
} __attribute__((aligned(16)));
_Static_assert(sizeof(struct cpu_tables) <= ARCH_CPU_TABLES_SIZE, "arch.h promises the size");

/* The boot CPU's first IST stacks, until MM hands out guarded ones (arch_cpu_set_ist_stacks). */
static uint8_t KiBootIstStacks[3][4096] __attribute__((aligned(16)));

extern const ULONG64 KiTrapStubTable[256];

static void cpu_build_gdt(struct cpu_tables *t)
{
    ULONG64 tss = (ULONG64)&t->tss;
    ULONG64 limit = sizeof(t->tss) - 1;

    t->gdt[ARCH_KERNEL_CS / 8] = 0x00209a0000000000ull; /* present, DPL0, code, L */
    t->gdt[ARCH_KERNEL_SS / 8] = 0x0000920000000000ull; /* present, DPL0, data, writable */
    t->gdt[ARCH_TSS_SEL / 8] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) |
                               (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
    t->gdt[ARCH_TSS_SEL / 8 + 1] = tss >> 32;
}

static void cpu_load_gdt(struct cpu_tables *t)
{
    struct table_register gdtr = { sizeof(t->gdt) - 1, (ULONG64)t->gdt };

    /* A far return reloads CS; the data selectors are plain moves. */
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movl %2, %%eax\n\t"
                     "movl %%eax, %%ds\n\t"
                     "movl %%eax, %%es\n\t"
                     "movl %%eax, %%ss\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movl %%eax, %%fs\n\t"
                     "movl %%eax, %%gs\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(ARCH_KERNEL_CS), "i"(ARCH_KERNEL_SS), "r"((uint16_t)ARCH_TSS_SEL)
                     : "rax", "memory");
}

static void cpu_set_gate(struct cpu_tables *t, ULONG vector, ULONG64 handler, uint8_t ist)
{
    struct idt_gate *g = &t->idt[vector];

    g->offset_lo = handler & 0xffff;
    g->selector = ARCH_KERNEL_CS;
    g->ist = ist;
    g->type_attr = 0x8e; /* present, DPL0, 64-bit interrupt gate: IF cleared on entry */
    g->offset_mid = (handler >> 16) & 0xffff;
    g->offset_hi = handler >> 32;
    g->reserved = 0;
}

static void cpu_build_idt(struct cpu_tables *t)
{
    for (ULONG v = 0; v < 256; v++)
        cpu_set_gate(t, v, KiTrapStubTable[v], 0);
    /* These three can arrive on a broken stack; NT gives them IST stacks too. */
    cpu_set_gate(t, 8, KiTrapStubTable[8], ARCH_IST_DOUBLE_FAULT);
    cpu_set_gate(t, 2, KiTrapStubTable[2], ARCH_IST_NMI);
    cpu_set_gate(t, 18, KiTrapStubTable[18], ARCH_IST_MACHINE_CHECK);
}

/* CPUID.1:EDX feature bits (Intel SDM vol. 2A, table 3-11) and what each one allows in CR4. */
#define CPUID1_DE   (1u << 2)
#define CPUID1_MCE  (1u << 7)
#define CPUID1_PGE  (1u << 13)
#define CPUID1_FXSR (1u << 24)
#define CPUID1_SSE  (1u << 25)
#define CPUIDX_NX   (1u << 20) /* CPUID.80000001h:EDX */

/*
 * The one place that sets CR0, CR4 and EFER, on the boot CPU and on every AP
 * alike: the firmware set them on the boot CPU, INIT reset them on the APs
 * (Intel SDM vol. 3, 9.1.1), so neither is trusted (SDM vol. 3, 2.5 and 2.2.1).
 */
static void cpu_set_control_registers(void)
{
    uint32_t r[4];
    ULONG64 cr4 = ARCH_CR4_PAE;

    arch_cpuid(1, 0, r);
    cr4 |= (r[3] & CPUID1_DE ? ARCH_CR4_DE : 0) | (r[3] & CPUID1_MCE ? ARCH_CR4_MCE : 0) |
           (r[3] & CPUID1_PGE ? ARCH_CR4_PGE : 0) | (r[3] & CPUID1_FXSR ? ARCH_CR4_OSFXSR : 0) |
           (r[3] & CPUID1_SSE ? ARCH_CR4_OSXMMEXCPT : 0);
    arch_write_cr0(ARCH_CR0_PE | ARCH_CR0_MP | ARCH_CR0_ET | ARCH_CR0_NE | ARCH_CR0_WP | ARCH_CR0_PG);
    arch_write_cr4(cr4);
    arch_cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000001u)
        arch_cpuid(0x80000001u, 0, r);
    else
        r[3] = 0;
    ULONG64 efer = arch_rdmsr(ARCH_MSR_EFER) & ~(ARCH_EFER_SCE | ARCH_EFER_NXE); /* LME, LMA kept */
    arch_wrmsr(ARCH_MSR_EFER, efer | (r[3] & CPUIDX_NX ? ARCH_EFER_NXE : 0));
}

void arch_cpu_set_ist_stacks(void *tables, ULONG64 df, ULONG64 nmi, ULONG64 mc)
{
    struct cpu_tables *t = tables;

    t->tss.ist[ARCH_IST_DOUBLE_FAULT - 1] = df;
    t->tss.ist[ARCH_IST_NMI - 1] = nmi;
    t->tss.ist[ARCH_IST_MACHINE_CHECK - 1] = mc;
}

void arch_cpu_init(void *tables, PVOID gs_base, const ULONG64 *ist)
{
    struct cpu_tables *t = tables;
    struct table_register idtr = { sizeof(t->idt) - 1, (ULONG64)t->idt };

    cpu_set_control_registers();
    t->tss.iomap_base = sizeof(t->tss); /* no I/O bitmap */
    if (ist)
        arch_cpu_set_ist_stacks(t, ist[0], ist[1], ist[2]);
    else
        arch_cpu_set_ist_stacks(t, (ULONG64)KiBootIstStacks[0] + 4096, (ULONG64)KiBootIstStacks[1] + 4096,
                                (ULONG64)KiBootIstStacks[2] + 4096);
    cpu_build_gdt(t);
    cpu_load_gdt(t);
    cpu_build_idt(t);
    __asm__ volatile("lidt %0" ::"m"(idtr));
    /* After the GS selector load, which may clear the base: NT's GS points at the KPCR. */
    arch_wrmsr(ARCH_MSR_GS_BASE, (ULONG64)gs_base);
}

PVOID arch_cpu_gdt(void *tables) { return ((struct cpu_tables *)tables)->gdt; }
PVOID arch_cpu_tss(void *tables) { return &((struct cpu_tables *)tables)->tss; }
PVOID arch_cpu_idt(void *tables) { return ((struct cpu_tables *)tables)->idt; }

void arch_cpu_vendor(char out[13])
{
    uint32_t r[4];

    arch_cpuid(0, 0, r);
    memcpy(out, &r[1], 4);
    memcpy(out + 4, &r[3], 4);
    memcpy(out + 8, &r[2], 4);
    out[12] = '\0';
}

const char *arch_exception_name(ULONG vector)
{
    static const char *const names[32] = {
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
        "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
        "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
        "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
        "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD exception",
        "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
        "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
        "#VC VMM communication", "#SX security", "reserved 31",
    };
    return vector < 32 ? names[vector] : "interrupt";
}
