/*
 * cmd_io.c - the I/O manager's objects in WinDbg's spirit: !drvobj (a driver,
 * its devices and dispatch routines), !devobj (a device) and !irp (an IRP
 * and its stack locations, the current one marked '>').  Objects are named
 * by address or, for drivers and devices, by their \Driver\ or \Device\
 * name; everything is read through the safe copy, so a wrong address gets a
 * message, not a fault.
 */
#include <irqlab/iomgr.h>
#include <irqlab/rtl.h>
#include "kd.h"

static const PCSTR KdMajorNames[IRP_MJ_MAXIMUM_FUNCTION + 1] = {
    [IRP_MJ_CREATE] = "IRP_MJ_CREATE", [IRP_MJ_CLOSE] = "IRP_MJ_CLOSE", [IRP_MJ_READ] = "IRP_MJ_READ",
    [IRP_MJ_WRITE] = "IRP_MJ_WRITE", [IRP_MJ_DEVICE_CONTROL] = "IRP_MJ_DEVICE_CONTROL",
    [IRP_MJ_INTERNAL_DEVICE_CONTROL] = "IRP_MJ_INTERNAL_DEVICE_CONTROL",
};

static PCSTR major_name(UCHAR Major)
{
    return Major <= IRP_MJ_MAXIMUM_FUNCTION && KdMajorNames[Major] ? KdMajorNames[Major] : "IRP_MJ_?";
}

/* A UNICODE_STRING of the target as ASCII (non-ASCII as '?'); "" when unreadable. */
static VOID narrow(const UNICODE_STRING *Name, CHAR *Out, ULONG Size)
{
    WCHAR wide[64];
    ULONG n = Name->Length / sizeof(WCHAR);

    if (n >= ARRAYSIZE(wide) || n >= Size || !KdReadMemory((ULONG64)Name->Buffer, wide, n * sizeof(WCHAR)))
        n = 0;
    for (ULONG i = 0; i < n; i++)
        Out[i] = wide[i] < 0x80 ? (CHAR)wide[i] : '?';
    Out[n] = 0;
}

static BOOLEAN ends_with(PCSTR Text, PCSTR Tail)
{
    size_t n = strlen(Text), m = strlen(Tail);

    return n >= m && strcmp(Text + n - m, Tail) == 0;
}

/* A device's \Device\ name as ASCII; FALSE when it has none. */
static BOOLEAN device_name(PDEVICE_OBJECT Device, CHAR *Out, ULONG Size)
{
    UNICODE_STRING name;

    if (!IoQueryDeviceName(Device, &name))
        return FALSE;
    narrow(&name, Out, Size);
    return TRUE;
}

/* The driver whose name (or one of whose devices' names, Device TRUE) is Text; or Text as an address. */
static BOOLEAN find_object(PCSTR Text, BOOLEAN Device, ULONG64 *Address)
{
    PDRIVER_OBJECT drivers[16];
    CHAR name[64];
    ULONG count = IoQueryDrivers(drivers, ARRAYSIZE(drivers));

    for (ULONG i = 0; i < count && Text[0] == '\\'; i++) {
        narrow(&drivers[i]->DriverName, name, sizeof(name));
        if (!Device && strcmp(name, Text) == 0) {
            *Address = (ULONG64)drivers[i];
            return TRUE;
        }
        for (PDEVICE_OBJECT d = drivers[i]->DeviceObject; Device && d; d = d->NextDevice) {
            if (device_name(d, name, sizeof(name)) && strcmp(name, Text) == 0) {
                *Address = (ULONG64)d;
                return TRUE;
            }
        }
    }
    if (Text[0] == '\\') {
        DbgPrint("%s: no such %s (!drvobj lists the drivers and their devices)\n", Text, Device ? "device" : "driver");
        return FALSE;
    }
    return KdEvaluateText(Text, Address);
}

/* Reads an object of Type at Address; FALSE (said) when it cannot be read or is not one. */
static BOOLEAN read_object(ULONG64 Address, PVOID Object, ULONG Size, SHORT Type, PCSTR What)
{
    if (!KdReadMemory(Address, Object, Size)) {
        KdMemoryError(Address);
        return FALSE;
    }
    if (*(SHORT *)Object != Type) {
        DbgPrint("%016llx is not %s (its Type is %d, %s's is %d)\n", Address, What, *(SHORT *)Object, What, Type);
        return FALSE;
    }
    return TRUE;
}

static ULONG64 one_argument(PCSTR Args, PCSTR Usage, BOOLEAN Device, BOOLEAN *Ok)
{
    CHAR word[64];
    ULONG64 address = 0;

    if (!KdNextWord(&Args, word, sizeof(word))) {
        DbgPrint("usage: %s\n", Usage);
        *Ok = FALSE;
        return 0;
    }
    *Ok = KdNoMoreArguments(Args, Usage) && find_object(word, Device, &address);
    return address;
}

KD_COMMAND(drvobj, "!drvobj", "!drvobj [address|\\Driver\\name]", "a driver object: its devices and dispatch routines")
{
    PDRIVER_OBJECT drivers[16];
    DRIVER_OBJECT d;
    CHAR name[64], symbol[96];
    BOOLEAN ok;

    if (KdAtEnd(Args)) {
        ULONG count = IoQueryDrivers(drivers, ARRAYSIZE(drivers));
        for (ULONG i = 0; i < count; i++) {
            narrow(&drivers[i]->DriverName, name, sizeof(name));
            DbgPrint("Driver object (%016llx) is for: %s\n", (ULONG64)drivers[i], name);
        }
        return;
    }
    ULONG64 address = one_argument(Args, "!drvobj [address|\\Driver\\name]", FALSE, &ok);
    if (!ok || !read_object(address, &d, sizeof(d), IO_TYPE_DRIVER, "a driver object"))
        return;
    narrow(&d.DriverName, name, sizeof(name));
    DbgPrint("Driver object (%016llx) is for:\n %s\nDevice Object list:\n", address, name);
    for (PDEVICE_OBJECT dev = d.DeviceObject; dev; ) {
        DbgPrint("%016llx  ", (ULONG64)dev);
        if (!KdReadMemory((ULONG64)&dev->NextDevice, &dev, sizeof(dev)))
            break;
    }
    DbgPrint("\n\nDispatch routines (the rest go to IopInvalidDeviceRequest):\n");
    for (ULONG i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++) {
        KiFormatSymbol((ULONG_PTR)d.MajorFunction[i], symbol, sizeof(symbol));
        if (!ends_with(symbol, "!IopInvalidDeviceRequest"))
            DbgPrint("[%02x] %-30s %016llx %s\n", i, major_name((UCHAR)i), (ULONG64)d.MajorFunction[i], symbol);
    }
}

KD_COMMAND(devobj, "!devobj", "!devobj <address|\\Device\\name>", "a device object: its driver, stack size, DPC, IRP")
{
    DEVICE_OBJECT d;
    DRIVER_OBJECT driver;
    CHAR name[64], driver_name[64], symbol[96];
    BOOLEAN ok;

    ULONG64 address = one_argument(Args, "!devobj <address|\\Device\\name>", TRUE, &ok);
    if (!ok || !read_object(address, &d, sizeof(d), IO_TYPE_DEVICE, "a device object"))
        return;
    if (!device_name((PDEVICE_OBJECT)address, name, sizeof(name)))
        RtlFormat(name, sizeof(name), "(no name)");
    driver_name[0] = 0;
    if (KdReadMemory((ULONG64)d.DriverObject, &driver, sizeof(driver)))
        narrow(&driver.DriverName, driver_name, sizeof(driver_name));
    DbgPrint("Device object (%016llx) is for:\n %s %s DriverObject %016llx\n", address, name, driver_name,
             (ULONG64)d.DriverObject);
    DbgPrint("Current Irp %016llx RefCount %d Type %08x Flags %08x StackSize %d\nDevExt %016llx\n",
             (ULONG64)d.CurrentIrp, d.ReferenceCount, d.DeviceType, d.Flags, d.StackSize, (ULONG64)d.DeviceExtension);
    if (d.Dpc.DeferredRoutine) {
        KiFormatSymbol((ULONG_PTR)d.Dpc.DeferredRoutine, symbol, sizeof(symbol));
        DbgPrint("DpcForIsr %016llx: %s%s\n", address + offsetof(DEVICE_OBJECT, Dpc), symbol,
                 d.Dpc.DpcData ? " (queued)" : "");
    }
}

KD_COMMAND(irp, "!irp", "!irp <address>", "an IRP: its status, thread and stack locations (> the current one)")
{
    IRP irp;
    IO_STACK_LOCATION stack[8];
    CHAR symbol[96];
    ULONG64 address;

    if (!KdNextValue(&Args, &address, TRUE, "IRP address") || !KdNoMoreArguments(Args, "!irp <address>") ||
        !read_object(address, &irp, sizeof(irp), IO_TYPE_IRP, "an IRP"))
        return;
    ULONG count = irp.StackCount > 0 && irp.StackCount <= 8 ? (ULONG)irp.StackCount : 0;
    DbgPrint("Irp is active with %d stacks %d is current (= %016llx)\n", irp.StackCount, irp.CurrentLocation,
             (ULONG64)irp.Tail.Overlay.CurrentStackLocation);
    DbgPrint(" Thread %016llx  IoStatus %08x Information %llx  PendingReturned %u  UserEvent %016llx\n",
             (ULONG64)irp.Tail.Overlay.Thread, irp.IoStatus.Status, (ULONG64)irp.IoStatus.Information,
             irp.PendingReturned, (ULONG64)irp.UserEvent);
    if (!KdReadMemory(address + sizeof(IRP), stack, count * sizeof(stack[0])))
        count = 0;
    DbgPrint("     cmd  flg cl Device           Completion-Context\n");
    for (ULONG i = 0; i < count; i++) {
        PIO_STACK_LOCATION sp = &stack[i];
        KiFormatSymbol((ULONG_PTR)sp->CompletionRoutine, symbol, sizeof(symbol));
        DbgPrint("%c[%s(%x)]\n", i + 1 == (ULONG)irp.CurrentLocation ? '>' : ' ', major_name(sp->MajorFunction),
                 sp->MajorFunction);
        DbgPrint("     %3x %2x %016llx %s %016llx\n", sp->Flags, sp->Control, (ULONG64)sp->DeviceObject,
                 sp->CompletionRoutine ? symbol : "-", (ULONG64)sp->Context);
        DbgPrint("         Args: %016llx %016llx %016llx %016llx\n", (ULONG64)sp->Parameters.Others.Argument1,
                 (ULONG64)sp->Parameters.Others.Argument2, (ULONG64)sp->Parameters.Others.Argument3,
                 (ULONG64)sp->Parameters.Others.Argument4);
    }
}
