/*
 * i8042prt.c - the PS/2 keyboard, as NT's i8042prt splits the work: the
 * ISR at the keyboard's DIRQL reads one byte, puts it in a ring under the
 * interrupt's spin lock and requests its device's DPC (IoRequestDpc: the
 * DpcForIsr, I8042KeyboardIsrDpc, the name Windows' !dpcs shows for it),
 * nothing more; the DPC at DISPATCH_LEVEL empties the ring through
 * KeSynchronizeExecution, decodes scan codes (kbdxlat.c) and hands what a
 * terminal would have sent to the class driver's service callback
 * (kbdclass.c), which completes the readers' IRPs.
 *
 * Start-up talks to the controller by polling, before the IRQ is connected:
 * controller self-test, keyboard port test, keyboard reset, scan code set 2
 * translated by the controller to set 1, LEDs off, scanning on.  Anything
 * missing or failing is reported and the kernel runs on without a keyboard.
 */
#include <irqlab/dpc.h>
#include <irqlab/hal.h>
#include <irqlab/iomgr.h>
#include <irqlab/kbd.h>
#include <irqlab/ke.h>
#include <irqlab/kequery.h>
#include <irqlab/prcb.h>
#include "kbdxlat.h"

#define DATA_PORT    ((PUCHAR)0x60)
#define COMMAND_PORT ((PUCHAR)0x64) /* reads give the status */

#define STATUS_OUTPUT_FULL 0x01
#define STATUS_INPUT_FULL  0x02
#define STATUS_AUX_DATA    0x20

#define CTRL_READ_CONFIG  0x20
#define CTRL_WRITE_CONFIG 0x60
#define CTRL_DISABLE_AUX  0xa7
#define CTRL_SELF_TEST    0xaa
#define CTRL_TEST_KBD     0xab
#define CTRL_DISABLE_KBD  0xad
#define CTRL_ENABLE_KBD   0xae

#define CONFIG_KBD_IRQ   0x01
#define CONFIG_AUX_IRQ   0x02
#define CONFIG_KBD_CLOCK_OFF 0x10 /* set by CTRL_DISABLE_KBD: must not be written back */
#define CONFIG_TRANSLATE 0x40

#define KBD_SET_LEDS      0xed
#define KBD_SCAN_CODE_SET 0xf0
#define KBD_ENABLE        0xf4
#define KBD_RESET         0xff
#define KBD_ACK           0xfa
#define KBD_RESEND        0xfe
#define KBD_SELF_TEST_OK  0xaa

#define RING 256 /* a power of two */

static struct {
    KINTERRUPT Interrupt;
    PDEVICE_OBJECT Device; /* \Device\KeyboardPort0: its Dpc is the DpcForIsr */
    UCHAR Ring[RING];
    ULONG Head, Tail; /* free-running; under the interrupt's lock */
    ULONG64 IsrStamp; /* TSC at the ISR that found the ring empty: the latency's start */
    KBD_DECODER Decoder;
    UCHAR LedStep;    /* 0 idle, 1 sent 0xED, 2 sent the LED byte */
    BOOLEAN LedAgain; /* the LEDs changed during an update */
    UCHAR LastByte;   /* the ISR's previous byte: an 0xE0 prefix */
    BOOLEAN BreakOnSysRq;
    PI8042_ISR_HOOK Hook;
    PI8042_SERVICE_CALLBACK Service; /* the consumer the boot sequence connected */
    PVOID ServiceContext;
    I8042_STATISTICS Stats;
} I8042;

/* ---- polled controller access, for start-up and for the LED command ---- */

static BOOLEAN wait_input_empty(VOID)
{
    for (ULONG i = 0; i < 10000; i++) {
        if (!(READ_PORT_UCHAR(COMMAND_PORT) & STATUS_INPUT_FULL))
            return TRUE;
        KeStallExecutionProcessor(10);
    }
    return FALSE;
}

static BOOLEAN write_port(PUCHAR Port, UCHAR Value)
{
    if (!wait_input_empty())
        return FALSE;
    WRITE_PORT_UCHAR(Port, Value);
    return TRUE;
}

/* A byte from the controller within Ms milliseconds, or -1. */
static int read_data(ULONG Ms)
{
    for (ULONG i = 0; i < Ms * 10; i++) {
        if (READ_PORT_UCHAR(COMMAND_PORT) & STATUS_OUTPUT_FULL)
            return READ_PORT_UCHAR(DATA_PORT);
        KeStallExecutionProcessor(100);
    }
    return -1;
}

static VOID flush_output(VOID)
{
    for (ULONG i = 0; i < 64 && read_data(1) >= 0; i++)
        ;
}

/* A controller command with an optional reply. */
static int controller(UCHAR Command, BOOLEAN Reply)
{
    if (!write_port(COMMAND_PORT, Command))
        return -1;
    return Reply ? read_data(100) : 0;
}

/* A keyboard command byte; TRUE when the keyboard acknowledged it. */
static BOOLEAN keyboard(UCHAR Byte)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        if (!write_port(DATA_PORT, Byte))
            return FALSE;
        int reply = read_data(200);
        if (reply == KBD_ACK)
            return TRUE;
        if (reply != KBD_RESEND)
            return FALSE;
    }
    return FALSE;
}

static PCSTR probe(UCHAR *Config)
{
    int v;

    controller(CTRL_DISABLE_KBD, FALSE);
    controller(CTRL_DISABLE_AUX, FALSE);
    flush_output();
    if ((v = controller(CTRL_READ_CONFIG, TRUE)) < 0)
        return "the controller does not answer";
    *Config = (UCHAR)((v & ~(CONFIG_KBD_IRQ | CONFIG_AUX_IRQ | CONFIG_KBD_CLOCK_OFF)) | CONFIG_TRANSLATE);
    if ((v = controller(CTRL_SELF_TEST, TRUE)) != 0x55)
        return "the controller failed its self-test";
    /* The self-test may reset the configuration byte: write ours after it. */
    if (controller(CTRL_WRITE_CONFIG, FALSE) < 0 || !write_port(DATA_PORT, *Config))
        return "the controller refused its configuration";
    if ((v = controller(CTRL_TEST_KBD, TRUE)) != 0)
        return "the keyboard port failed its test";
    controller(CTRL_ENABLE_KBD, FALSE);
    if (!keyboard(KBD_RESET) || read_data(1000) != KBD_SELF_TEST_OK)
        return "no keyboard answered the reset";
    if (!keyboard(KBD_SCAN_CODE_SET) || !keyboard(2)) /* set 2; the controller translates to set 1 */
        return "the keyboard refused scan code set 2";
    if (!keyboard(KBD_SET_LEDS) || !keyboard(0) || !keyboard(KBD_ENABLE))
        return "the keyboard refused to start";
    return NULL;
}

/* ---- the ISR, at DIRQL, holding the interrupt's lock ---- */

KE_COMMAND_LINE_OPTION(breakonsysrq, "breakonsysrq", "breakonsysrq=0: SysRq (Alt+Print Screen) on the PS/2 keyboard does not break into the debugger");

/* SysRq (0x54) or Print Screen (E0 37) with a debugger present breaks in, from the ISR, as i8042prt's
 * BreakOnSysRq does (Microsoft's debugger docs, "CTRL+C (Break)"; i8042prt\Parameters\BreakOnSysRq).
 * Each byte is remembered, so the next call sees an E0 prefix. */
static VOID break_on_sysrq(UCHAR Byte)
{
    BOOLEAN prefixed = I8042.LastByte == 0xe0;

    I8042.LastByte = Byte;
    if (I8042.BreakOnSysRq && KdDebuggerEnabled && (Byte == 0x54 || (prefixed && Byte == 0x37)))
        DbgBreakPoint();
}

static BOOLEAN I8042KeyboardInterruptService(PKINTERRUPT Interrupt, PVOID Context)
{
    UCHAR status = READ_PORT_UCHAR(COMMAND_PORT);

    UNREFERENCED_PARAMETER(Context);
    if (!(status & STATUS_OUTPUT_FULL))
        return FALSE; /* not ours: nothing to read */
    UCHAR byte = READ_PORT_UCHAR(DATA_PORT);
    if (status & STATUS_AUX_DATA)
        return TRUE; /* a mouse byte: the mouse port is off, so a stray one */
    I8042.Stats.IsrRuns++;
    I8042.Stats.IsrOffLevel += KeGetCurrentIrql() != Interrupt->Irql;
    ASSERT(KeGetCurrentIrql() == Interrupt->SynchronizeIrql);
    if (I8042.Head == I8042.Tail)
        I8042.IsrStamp = (ULONG64)KeQueryPerformanceCounter(NULL).QuadPart;
    if (I8042.Head - I8042.Tail == RING) {
        I8042.Stats.OverrunBytes++;
        I8042.Stats.OverrunKeys += byte != 0 && byte < 0x80; /* a lost make code: a lost key */
    } else {
        I8042.Ring[I8042.Head++ % RING] = byte;
        I8042.Stats.Bytes++;
    }
    if (I8042.Hook)
        I8042.Hook(byte);
    if (IoRequestDpc(I8042.Device, NULL, NULL))
        I8042.Stats.DpcQueued++;
    else
        I8042.Stats.DpcAlreadyQueued++;
    break_on_sysrq(byte);
    return TRUE;
}

/* ---- the DPC, at DISPATCH_LEVEL ---- */

typedef struct _RING_BATCH {
    UCHAR Bytes[64];
    ULONG Count;
    ULONG64 Stamp;
} RING_BATCH;

/* Under the interrupt's lock (KeSynchronizeExecution): take what the ISR left. */
static BOOLEAN take_bytes(PVOID Context)
{
    RING_BATCH *batch = Context;

    batch->Stamp = I8042.IsrStamp;
    for (batch->Count = 0; batch->Count < sizeof(batch->Bytes) && I8042.Tail != I8042.Head; batch->Count++)
        batch->Bytes[batch->Count] = I8042.Ring[I8042.Tail++ % RING];
    I8042.IsrStamp = (ULONG64)KeQueryPerformanceCounter(NULL).QuadPart; /* bytes still in the ring are measured from now */
    return batch->Count != 0;
}

static VOID note_latency(ULONG64 Stamp, ULONG64 Now)
{
    ULONG64 cycles = Now - Stamp;
    I8042_STATISTICS *s = &I8042.Stats;

    if (s->LatencyCount == 0 || cycles < s->LatencyMin)
        s->LatencyMin = cycles;
    if (cycles > s->LatencyMax)
        s->LatencyMax = cycles;
    s->LatencySum += cycles;
    s->RecentLatency[s->LatencyCount % I8042_RECENT] = cycles;
    s->LatencyCount++;
    if (s->RecentCount < I8042_RECENT)
        s->RecentCount++;
}

/* The LED command is two bytes, each answered by an ACK that arrives through the ISR. */
static VOID led_step(BOOLEAN Ack)
{
    if (I8042.LedStep == 0 && !Ack) {
        I8042.LedStep = write_port(DATA_PORT, KBD_SET_LEDS) ? 1 : 0;
    } else if (I8042.LedStep == 1 && Ack) {
        I8042.LedStep = write_port(DATA_PORT, I8042.Decoder.Leds) ? 2 : 0;
    } else if (I8042.LedStep == 2 && Ack) {
        I8042.LedStep = 0;
        I8042.Stats.LedUpdates++;
        if (I8042.LedAgain) {
            I8042.LedAgain = FALSE;
            led_step(FALSE);
        }
    }
}

static VOID handle_byte(UCHAR Byte, ULONG64 IsrTsc)
{
    KBD_EVENT event;
    CHAR out[8];

    if (Byte == KBD_ACK) {
        led_step(TRUE);
        return;
    }
    if (Byte == KBD_RESEND && I8042.LedStep != 0) {
        I8042.LedStep = 0;
        led_step(FALSE);
        return;
    }
    if (Byte == 0x00 || Byte == 0xff) {
        I8042.Stats.KeyboardOverruns++;
        return;
    }
    I8042.Stats.Keys += Byte < 0x80;
    if (!KbdDecode(&I8042.Decoder, Byte, &event))
        return;
    if (event.LedsChanged) {
        if (I8042.LedStep == 0)
            led_step(FALSE);
        else
            I8042.LedAgain = TRUE;
    }
    ULONG n = KbdEventToTerminal(&event, out, sizeof(out));
    if (n) {
        I8042.Stats.Chars++;
        if (I8042.Service)
            I8042.Service(I8042.ServiceContext, out, n, IsrTsc);
    }
}

static VOID I8042KeyboardIsrDpc(PKDPC Dpc, PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    ULONG64 start = (ULONG64)KeQueryPerformanceCounter(NULL).QuadPart;
    RING_BATCH batch;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(Context);
    I8042.Stats.DpcRuns++;
    I8042.Stats.DpcOffLevel += KeGetCurrentIrql() != DISPATCH_LEVEL;
    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    BOOLEAN first = TRUE;
    while (KeSynchronizeExecution(&I8042.Interrupt, take_bytes, &batch)) {
        /* A first byte stamped after `start` came after this DPC began, so it did not queue this
         * DPC (an earlier run took the byte that did): it is no ISR -> DPC sample. */
        if (first && batch.Stamp <= start)
            note_latency(batch.Stamp, start);
        first = FALSE;
        for (ULONG i = 0; i < batch.Count; i++)
            handle_byte(batch.Bytes[i], batch.Stamp);
    }
}

/* ---- start-up and queries ---- */

static BOOLEAN connect(UCHAR Config)
{
    KIRQL dirql;
    KAFFINITY affinity;
    ULONG vector = HalGetInterruptVector(Isa, 0, 1, 1, &dirql, &affinity);

    if (vector == 0)
        return FALSE;
    KeInitializeInterrupt(&I8042.Interrupt, I8042KeyboardInterruptService, NULL, NULL, vector, dirql, dirql,
                          Latched, FALSE);
    if (!KeConnectInterrupt(&I8042.Interrupt))
        return FALSE;
    I8042.Stats.Vector = vector;
    I8042.Stats.Dirql = dirql;
    flush_output();
    if (controller(CTRL_WRITE_CONFIG, FALSE) < 0 || !write_port(DATA_PORT, Config | CONFIG_KBD_IRQ))
        return FALSE;
    return HalEnableSystemInterrupt(vector, dirql, Latched);
}

/* NT's DriverEntry for i8042prt: the port's device, whose DPC the ISR requests (IoRequestDpc). */
static NTSTATUS I8042DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name;

    UNREFERENCED_PARAMETER(RegistryPath);
    RtlInitUnicodeString(&name, u"\\Device\\KeyboardPort0");
    NTSTATUS status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_KEYBOARD, 0, FALSE, &I8042.Device);
    if (NT_SUCCESS(status))
        IoInitializeDpcRequest(I8042.Device, I8042KeyboardIsrDpc);
    return status;
}

VOID I8042Initialize(PI8042_SERVICE_CALLBACK ServiceCallback, PVOID Context)
{
    static UNICODE_STRING driver_name;
    UCHAR config = 0;
    PCSTR failure;

    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    I8042.Service = ServiceCallback;
    I8042.ServiceContext = Context;
    I8042.BreakOnSysRq = KeGetCommandLineNumber("breakonsysrq", 0, 1, 1) != 0;
    if (HalQuery8042Present() == 0) {
        DbgPrint("i8042: the FADT says there is no 8042; running without a keyboard\n");
        return;
    }
    KbdDecoderInitialize(&I8042.Decoder);
    if ((failure = probe(&config)) != NULL) {
        DbgPrint("i8042: %s; running without a keyboard\n", failure);
        return;
    }
    RtlInitUnicodeString(&driver_name, u"\\Driver\\i8042prt");
    if (!NT_SUCCESS(IoCreateDriver(&driver_name, I8042DriverEntry))) {
        DbgPrint("i8042: no memory for its driver and device objects; running without a keyboard\n");
        return;
    }
    if (!connect(config)) {
        DbgPrint("i8042: IRQ 1 could not be routed or connected; running without a keyboard\n");
        return;
    }
    I8042.Stats.Present = TRUE;
    DbgPrint("i8042: keyboard ready: IRQ 1 at vector 0x%02x, DIRQL %u; scan code set 1 (translated)\n",
             I8042.Stats.Vector, I8042.Stats.Dirql);
}

static BOOLEAN copy_stats(PVOID Context)
{
    *(PI8042_STATISTICS)Context = I8042.Stats;
    return TRUE;
}

VOID I8042QueryStatistics(PI8042_STATISTICS Statistics)
{
    if (I8042.Stats.Present)
        KeSynchronizeExecution(&I8042.Interrupt, copy_stats, Statistics);
    else
        *Statistics = I8042.Stats;
}

PKINTERRUPT I8042GetInterrupt(VOID)
{
    return I8042.Stats.Present ? &I8042.Interrupt : NULL;
}

static BOOLEAN set_hook(PVOID Context)
{
    I8042.Hook = (PI8042_ISR_HOOK)Context;
    return TRUE;
}

VOID I8042SetIsrHook(PI8042_ISR_HOOK Hook)
{
    if (I8042.Stats.Present)
        KeSynchronizeExecution(&I8042.Interrupt, set_hook, (PVOID)Hook);
}
