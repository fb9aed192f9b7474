/*
 * arch.h - the one door between kernel/ and arch/x86_64/.
 *
 * Generic code asks the architecture for things through these helpers and
 * prototypes and never touches x86 instructions or tables itself.
 * Arch-level helpers use snake_case (like seL4 and Linux); NT routines live
 * in kernel/ with NT names.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <irqlab/nt.h>
#include <arch/trapframe.h>

struct irqlab_bootinfo;

/* ---- instructions ------------------------------------------------------ */
static inline void arch_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void arch_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t arch_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline ULONG64 arch_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((ULONG64)hi << 32) | lo;
}
static inline void arch_wrmsr(uint32_t msr, ULONG64 v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* cpuid as a serializing instruction (Intel SDM vol. 3, 9.1.3: after code is modified). */
static inline void arch_serialize(void)
{
    uint32_t a = 0, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)::"memory");
}

static inline void arch_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

#define ARCH_READ_CR(n)                                           \
    static inline ULONG64 arch_read_cr##n(void)                  \
    {                                                             \
        ULONG64 v;                                               \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));         \
        return v;                                                 \
    }                                                             \
    static inline void arch_write_cr##n(ULONG64 v)               \
    {                                                             \
        __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");  \
    }
ARCH_READ_CR(0)
ARCH_READ_CR(3)
ARCH_READ_CR(4)
ARCH_READ_CR(8)
#undef ARCH_READ_CR

static inline ULONG64 arch_read_cr2(void)
{
    ULONG64 v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline ULONG64 arch_read_flags(void)
{
    ULONG64 f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}
#define ARCH_FLAGS_IF 0x200ull

/* The debug registers (Intel SDM vol. 3, "Debug Registers"): DR0-DR3 hold addresses, DR7 enables them, DR6 says
 * which one fired.  DR6 is sticky, so whoever reads it writes back its reset value. */
#define ARCH_DR6_RESET 0xffff0ff0ull
#define ARCH_DR6_STEP  (1ull << 14) /* BS: a single step (EFLAGS.TF) */
#define ARCH_FLAGS_TF  0x100ull     /* a debug exception after the next instruction (SDM vol. 3, "Single-Step Exception Condition") */
#define ARCH_FLAGS_RF  0x10000ull   /* resume: no instruction breakpoint for one instruction (SDM vol. 3, "Instruction-Breakpoint Exception Condition") */
static inline ULONG64 arch_take_dr6(void)
{
    ULONG64 v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    __asm__ volatile("mov %0, %%dr6" ::"r"(ARCH_DR6_RESET));
    return v;
}
static inline void arch_write_debug_registers(const ULONG64 Address[4], ULONG64 Dr7)
{
    __asm__ volatile("mov %0, %%dr7" ::"r"(0ull)); /* off while the addresses change */
    __asm__ volatile("mov %0, %%dr0" ::"r"(Address[0]));
    __asm__ volatile("mov %0, %%dr1" ::"r"(Address[1]));
    __asm__ volatile("mov %0, %%dr2" ::"r"(Address[2]));
    __asm__ volatile("mov %0, %%dr3" ::"r"(Address[3]));
    __asm__ volatile("mov %0, %%dr7" ::"r"(Dr7) : "memory");
}
static inline void arch_write_dr7(ULONG64 Dr7) { __asm__ volatile("mov %0, %%dr7" ::"r"(Dr7) : "memory"); }

static inline void arch_disable_interrupts(void) { __asm__ volatile("cli" ::: "memory"); }
/* The nop closes sti's one-instruction shadow: anything pending is taken before this returns. */
static inline void arch_enable_interrupts(void) { __asm__ volatile("sti; nop" ::: "memory"); }
static inline void arch_pause(void) { __asm__ volatile("pause"); }
static inline void arch_halt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void arch_invlpg(ULONG64 va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

/* Restores IF from a value returned by arch_save_disable(). */
static inline ULONG64 arch_save_disable(void)
{
    ULONG64 f = arch_read_flags();
    arch_disable_interrupts();
    return f;
}
static inline void arch_restore(ULONG64 flags)
{
    if (flags & ARCH_FLAGS_IF)
        arch_enable_interrupts();
}

static inline ULONG64 arch_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
    return ((ULONG64)hi << 32) | lo;
}

/* cmpxchg without lock: atomic against interrupts and NMIs on this CPU only (an instruction is
 * never cut), for data no other CPU writes (the trace's per-CPU claim counter).  TRUE if it swapped;
 * *Expected is the value found either way. */
static inline BOOLEAN arch_local_cmpxchg64(volatile ULONG64 *Target, ULONG64 *Expected, ULONG64 Desired)
{
    BOOLEAN swapped;
    __asm__ volatile("cmpxchgq %3, %1" : "=@ccz"(swapped), "+m"(*Target), "+a"(*Expected) : "r"(Desired) : "memory");
    return swapped;
}

/* A 64-bit load relative to GS (the KPCR): NT's __readgsqword. */
static inline ULONG64 arch_gs_read64(ULONG offset)
{
    ULONG64 v;
    __asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"((ULONG64)offset));
    return v;
}

/* Enables interrupts and halts with no window between (sti's one-instruction shadow). */
static inline void arch_enable_and_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

/* The address of this instruction, for a record made by code inlined into its caller. */
static inline ULONG64 arch_current_pc(void)
{
    ULONG64 pc;
    __asm__ volatile("lea 0(%%rip), %0" : "=r"(pc));
    return pc;
}

static inline ULONG64 arch_stack_pointer(void)
{
    ULONG64 rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    return rsp;
}
static inline ULONG64 arch_frame_pointer(void)
{
    return (ULONG64)__builtin_frame_address(0);
}

/* ---- cpu.c: descriptor tables and identification ----------------------- */
/* Room for one CPU's GDT, TSS and IDT, which the kernel provides (16-byte aligned). */
#define ARCH_CPU_TABLES_SIZE 0x1100
/* Builds and loads this CPU's tables in `tables`, IST stack tops from ist[3]
 * (NULL: small boot stacks, boot CPU only), and points GS at gs_base. */
void arch_cpu_init(void *tables, PVOID gs_base, const ULONG64 *ist);
void arch_cpu_set_ist_stacks(void *tables, ULONG64 df, ULONG64 nmi, ULONG64 mc);
PVOID arch_cpu_gdt(void *tables);
PVOID arch_cpu_tss(void *tables);
PVOID arch_cpu_idt(void *tables);
#define ARCH_MSR_GS_BASE 0xc0000101u
/* The control bits arch_cpu_init sets on every CPU (Intel SDM vol. 3, 2.5; EFER: 2.2.1). */
#define ARCH_CR0_PE (1ull << 0)
#define ARCH_CR0_MP (1ull << 1)
#define ARCH_CR0_ET (1ull << 4)
#define ARCH_CR0_NE (1ull << 5)
#define ARCH_CR0_WP (1ull << 16)
#define ARCH_CR0_PG (1ull << 31)
#define ARCH_CR4_DE (1ull << 3)
#define ARCH_CR4_PAE (1ull << 5)
#define ARCH_CR4_MCE (1ull << 6)
#define ARCH_CR4_PGE (1ull << 7)
#define ARCH_CR4_OSFXSR (1ull << 9)
#define ARCH_CR4_OSXMMEXCPT (1ull << 10)
#define ARCH_MSR_EFER 0xc0000080u
#define ARCH_EFER_SCE (1ull << 0)
#define ARCH_EFER_NXE (1ull << 11)
void arch_cpu_vendor(char out[13]);
const char *arch_exception_name(ULONG vector);
#define ARCH_KERNEL_CS  0x10 /* NT x64: KGDT64_R0_CODE */
#define ARCH_KERNEL_SS  0x18 /* NT x64: KGDT64_R0_DATA */
#define ARCH_TSS_SEL    0x40 /* NT x64: KGDT64_SYS_TSS */
#define ARCH_IST_DOUBLE_FAULT 1
#define ARCH_IST_NMI          2
#define ARCH_IST_MACHINE_CHECK 3

/* ---- safecopy.asm --------------------------------------------------------- */
/* Copies n bytes; a fault on either side stops it (the trap handler's fixup table).
 * Returns the bytes not copied. */
size_t arch_copy_safe(void *dst, const void *src, size_t n);
/* A faulting instruction that has a fixup, and where to resume. */
typedef struct arch_fixup {
    ULONG64 fault_ip;
    ULONG64 resume_ip;
} arch_fixup;

/* ---- serial.c: COM1 ----------------------------------------------------- */
void arch_serial_init(void);
void arch_serial_write(const char *s, size_t n);
int arch_serial_read(void); /* a byte, or -1 when none is waiting */
/* COM2, raw bytes: the trace's channel (QEMU: a second -serial).  FALSE when no UART answers. */
BOOLEAN arch_serial2_init(void);
void arch_serial2_write(const void *data, size_t n);

/* ---- power.c: leaving the machine ---------------------------------------- */
/* Values for isa-debug-exit; QEMU exits with (value << 1) | 1 (docs/testing.md). */
#define ARCH_EXIT_SUCCESS     0x10 /* status 33 */
#define ARCH_EXIT_TEST_FAILED 0x11 /* status 35 */
#define ARCH_EXIT_BUGCHECK    0x12 /* status 37 */
DECLSPEC_NORETURN void arch_exit_emulator(uint8_t code);
DECLSPEC_NORETURN void arch_halt_forever(void);
DECLSPEC_NORETURN void arch_reset(void);
/* Runs fn(arg) on a new stack; fn must not return. */
DECLSPEC_NORETURN void arch_switch_stack(ULONG64 top, void (*fn)(void *), void *arg);
/* ---- switch.asm: thread switches ------------------------------------------- */
/* Saves the callee-saved registers and RSP (into *old_rsp), resumes the thread whose RSP is
 * new_rsp, and clears *old_running once the old one's registers are all saved. */
void arch_switch_context(ULONG64 *old_rsp, ULONG64 new_rsp, volatile UCHAR *old_running);
/* A new thread's first RSP on the stack ending at top: its first switch-in calls
 * startup(arg1, arg2) there, with interrupts as the switch left them; startup never returns. */
static inline ULONG64 arch_thread_stack(ULONG64 top, void (*startup)(void *, void *), void *arg1, void *arg2)
{
    extern const char arch_thread_start[];
    ULONG64 *sp = (ULONG64 *)(top & ~15ull);

    *--sp = (ULONG64)arch_thread_start; /* popped by ret: RSP is 16-aligned at the call */
    *--sp = 0;                          /* rbp */
    *--sp = 0;                          /* rbx */
    *--sp = (ULONG64)arg1;              /* r12 */
    *--sp = (ULONG64)arg2;              /* r13 */
    *--sp = (ULONG64)startup;           /* r14 */
    *--sp = 0;                          /* r15 */
    return (ULONG64)sp;
}
/* Calls fn(arg) on the stack ending at top, then returns on the caller's stack. */
void arch_call_on_stack(ULONG64 top, void (*fn)(void *), void *arg);
/* Where a stack walk changes stacks: the return address of arch_call_on_stack's call (entry.asm),
 * and of KiTrapCommon's call into KiDispatchTrap, whose KTRAP_FRAME is just above (trapentry.S). */
extern const ULONG64 arch_call_on_stack_return, arch_trap_return;

/* ---- mmu.c: page tables --------------------------------------------------- */
#define ARCH_PAGE_SIZE 4096ull
#define ARCH_PTE_PRESENT 0x1ull
#define ARCH_PTE_WRITE   0x2ull
#define ARCH_PTE_LARGE   0x80ull
#define ARCH_PTE_NX      (1ull << 63)
#define ARCH_STACK_BASE  0xffffff0000000000ull /* kernel stacks, each above a guard page */
/* The kernel's page tables, with pages from allocate_page (0 when none left); FALSE when it ran out. */
BOOLEAN arch_mmu_init(const struct irqlab_bootinfo *bi, ULONG64 (*allocate_page)(void));
ULONG64 arch_mmu_map_stack(ULONG pages); /* returns the top; 0 when out of memory */
/* The leaf entry mapping va (with ARCH_PTE_LARGE for 2 MiB), or 0 if unmapped. */
ULONG64 arch_mmu_query(ULONG64 va);
ULONG64 arch_mmu_translate(ULONG64 va); /* the physical address va maps to; 0 if not mapped */
ULONG64 arch_mmu_unmap_page(ULONG64 va); /* a stack page's physical address, 0 if not mapped */
BOOLEAN arch_mmu_nx_enabled(void);

/* ---- mp.c: starting application processors -------------------------------- */
#define ARCH_TRAMPOLINE_PAGES 4 /* contiguous, below 1 MiB: code, then three page tables */
/* Copies the trampoline to low_pages; FALSE if they are unusable. */
BOOLEAN arch_mp_prepare(ULONG64 low_pages);
/* INIT-STARTUP-STARTUP to apic_id; the AP runs entry(arg) on stack_top with the
 * kernel's CR3, interrupts off, and no GDT/IDT of its own yet. */
void arch_mp_launch(ULONG apic_id, ULONG64 stack_top, void (*entry)(void *), void *arg);
/* Sends an AP that did not answer back to wait-for-STARTUP. */
void arch_mp_cancel(ULONG apic_id);

#endif
