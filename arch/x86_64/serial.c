/*
 * serial.c - the 16550 UART at COM1, the kernel console and debugger line,
 * and COM2, a raw byte channel of its own for the event trace (tracedump.c).
 *
 * Polled: output waits for the transmit holding register; input is read when
 * the line status says a byte is waiting.  When no UART answers (a PC without
 * COM1), output is dropped rather than spinning forever.
 */
#include <arch/arch.h>

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_SCRATCH 7
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define SPIN_LIMIT 100000

static BOOLEAN SerialPresent;

/* Programs the UART at Port for 115200 8N1 with FIFOs; FALSE when no UART answers there (the
 * scratch register reads back what was written only if one is present). */
static BOOLEAN uart_init(uint16_t Port, uint8_t Mcr)
{
    arch_outb(Port + REG_SCRATCH, 0x5a);
    if (arch_inb(Port + REG_SCRATCH) != 0x5a)
        return FALSE;
    arch_outb(Port + REG_IER, 0x00);  /* polled */
    arch_outb(Port + REG_LCR, 0x80);  /* DLAB: divisor follows */
    arch_outb(Port + REG_DATA, 0x01); /* 115200 baud (QEMU's file backend ignores it) */
    arch_outb(Port + REG_IER, 0x00);
    arch_outb(Port + REG_LCR, 0x03);  /* 8N1 */
    arch_outb(Port + REG_FCR, 0xc7);  /* FIFO on, cleared, 14-byte threshold */
    arch_outb(Port + REG_MCR, Mcr);
    return TRUE;
}

void arch_serial_init(void)
{
    SerialPresent = uart_init(COM1, 0x0b); /* DTR, RTS, OUT2 */
}

static void serial_put(char c)
{
    for (int i = 0; i < SPIN_LIMIT; i++) {
        if (arch_inb(COM1 + REG_LSR) & LSR_THR_EMPTY)
            break;
        arch_pause();
    }
    arch_outb(COM1 + REG_DATA, (uint8_t)c);
}

void arch_serial_write(const char *s, size_t n)
{
    if (!SerialPresent)
        return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_put('\r');
        serial_put(s[i]);
    }
}

int arch_serial_read(void)
{
    if (!SerialPresent || !(arch_inb(COM1 + REG_LSR) & LSR_DATA_READY))
        return -1;
    return arch_inb(COM1 + REG_DATA);
}

/* ---- COM2: raw bytes (no newline translation), for the trace dump ---------------------- */
#define COM2 0x2f8
#define FIFO_BYTES 16

static BOOLEAN Serial2Present;

BOOLEAN arch_serial2_init(void)
{
    Serial2Present = uart_init(COM2, 0x03); /* DTR, RTS */
    return Serial2Present;
}

/* An empty transmit FIFO takes 16 bytes: one status read per 16 bytes, not per byte. */
void arch_serial2_write(const void *data, size_t n)
{
    const uint8_t *p = data;

    if (!Serial2Present)
        return;
    while (n > 0) {
        for (int i = 0; i < SPIN_LIMIT; i++) {
            if (arch_inb(COM2 + REG_LSR) & LSR_THR_EMPTY)
                break;
            arch_pause();
        }
        for (int i = 0; i < FIFO_BYTES && n > 0; i++, n--)
            arch_outb(COM2 + REG_DATA, *p++);
    }
}
