/*
 * console.c - the serial console: a `0: kd> ` prompt and a line editor.
 *
 * This is the seed of the WinDbg-style console: it reads a line from serial
 * and the keyboard (input.c), runs the few commands it knows and echoes
 * anything else back, so a student sees that the kernel is alive and
 * listening.
 */
#include <arch/arch.h>
#include <irqlab/rtl.h>
#include "../ke/ki.h"
#include "kd.h"

#define LINE_MAX 160

static void cmd_help(PCSTR args);
static void cmd_version(PCSTR args);
static void cmd_quit(PCSTR args);
static void cmd_reboot(PCSTR args);

static const struct {
    PCSTR Name;
    void (*Run)(PCSTR args);
    PCSTR Help;
} KdCommands[] = {
    { "help", cmd_help, "list the commands" },
    { "version", cmd_version, "kernel version" },
    { "quit", cmd_quit, "power off (ends QEMU)" },
    { "reboot", cmd_reboot, "reset the machine" },
    { "!kbd", KdCmdKbd, "keyboard driver counters: ISR, DPC, keys, overruns, ISR->DPC latency" },
    { "!kbddemo", KdCmdKbdDemo, "[off|broken|fixed] the seed's cross-IRQL spin-lock deadlock" },
};

static void cmd_help(PCSTR args)
{
    UNREFERENCED_PARAMETER(args);
    for (size_t i = 0; i < ARRAYSIZE(KdCommands); i++)
        DbgPrint("  %-10s %s\n", KdCommands[i].Name, KdCommands[i].Help);
    DbgPrint("  anything else is echoed back\n");
}

static void cmd_version(PCSTR args)
{
    UNREFERENCED_PARAMETER(args);
    DbgPrint("irqlab %s\n", KiVersionString);
}

static void cmd_quit(PCSTR args)
{
    UNREFERENCED_PARAMETER(args);
    DbgPrint("irqlab: powering off\n");
    arch_exit_emulator(KI_EXIT_SUCCESS);
}

static void cmd_reboot(PCSTR args)
{
    UNREFERENCED_PARAMETER(args);
    DbgPrint("irqlab: resetting\n");
    arch_reset();
}

static void run_line(char *line)
{
    char *args = line;

    while (*args && *args != ' ')
        args++;
    size_t n = (size_t)(args - line);
    while (*args == ' ')
        args++;
    for (size_t i = 0; i < ARRAYSIZE(KdCommands); i++) {
        if (strlen(KdCommands[i].Name) == n && strncmp(KdCommands[i].Name, line, n) == 0) {
            KdCommands[i].Run(args);
            return;
        }
    }
    DbgPrint("echo: %s\n", line);
}

/* Reads one line with Backspace and Ctrl-U; over-long input is refused with a bell. */
static void read_line(char *line)
{
    size_t n = 0;

    for (;;) {
        int c = KdInputWait();
        if (c == '\r' || c == '\n') {
            DbgPrint("\n");
            line[n] = '\0';
            return;
        }
        if ((c == 0x7f || c == 0x08) && n > 0) {
            n--;
            DbgPrint("\b \b");
        } else if (c == 0x15) {
            for (; n > 0; n--)
                DbgPrint("\b \b");
        } else if (c >= 0x20 && c < 0x7f && n < LINE_MAX - 1) {
            line[n++] = (char)c;
            DbgPrint("%c", c);
        } else if (c >= 0x20 && c < 0x7f) {
            DbgPrint("\a");
        }
    }
}

VOID KdConsoleLoop(VOID)
{
    char line[LINE_MAX];

    DbgPrint("kd: console ready on COM1; type help\n");
    for (;;) {
        DbgPrint("0: kd> ");
        read_line(line);
        if (line[0])
            run_line(line);
    }
}
