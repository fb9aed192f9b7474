/*
 * power.c - ways out of the machine: QEMU's isa-debug-exit, halt, reset.
 */
#include <arch/arch.h>

#define DEBUG_EXIT_PORT 0xf4

void arch_halt_forever(void)
{
    for (;;) {
        arch_disable_interrupts();
        arch_halt();
    }
}

/*
 * QEMU ends with status (code << 1) | 1 when -device isa-debug-exit is
 * present.  On real hardware (or without the device) the write is ignored
 * and we halt, so a report on the screen or serial stays readable.
 */
void arch_exit_emulator(uint8_t code)
{
    arch_outl(DEBUG_EXIT_PORT, code);
    arch_halt_forever();
}

/* The i8042's pulse-reset command, then a triple fault as the last resort. */
void arch_reset(void)
{
    static const struct __attribute__((packed)) {
        uint16_t limit;
        ULONG64 base;
    } empty_idt = { 0, 0 };

    arch_outb(0x64, 0xfe);
    __asm__ volatile("lidt %0; int3" ::"m"(empty_idt));
    arch_halt_forever();
}
