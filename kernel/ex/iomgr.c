/*
 * iomgr.c - driver and device objects: IoCreateDriver runs a driver's
 * DriverEntry on a fresh DRIVER_OBJECT, IoCreateDevice gives it devices
 * (pool: the object, then the driver's extension), and a name table stands
 * in for NT's object namespace (\Driver\..., \Device\...) so that
 * IoGetDeviceObjectPointer finds a device by name.
 */
#include <irqlab/iomgr.h>
#include <irqlab/pool.h>
#include <irqlab/rtl.h>
#include <irqlab/spinlock.h>

#define IO_TAG      0x206f4920 /* ' Io ' */
#define MAX_DRIVERS 16
#define MAX_NAMES   32

NTSTATUS IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp); /* irp.c */

static KSPIN_LOCK IopLock; /* the two tables */
static PDRIVER_OBJECT IopDrivers[MAX_DRIVERS];
static ULONG IopDriverCount;
static struct {
    UNICODE_STRING Name;
    PDEVICE_OBJECT Device;
} IopNames[MAX_NAMES];

VOID RtlInitUnicodeString(PUNICODE_STRING Destination, PCWSTR Source)
{
    USHORT n = 0;

    while (Source && Source[n])
        n++;
    Destination->Length = (USHORT)(n * sizeof(WCHAR));
    Destination->MaximumLength = (USHORT)(Destination->Length + sizeof(WCHAR));
    Destination->Buffer = (PWSTR)Source;
}

static BOOLEAN same_name(PCUNICODE_STRING A, PCUNICODE_STRING B)
{
    return A->Length == B->Length && memcmp(A->Buffer, B->Buffer, A->Length) == 0;
}

NTSTATUS IoCreateDriver(PCUNICODE_STRING Name, PDRIVER_INITIALIZE InitializationFunction)
{
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    PDRIVER_OBJECT driver = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(DRIVER_OBJECT), IO_TAG);
    if (driver == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    driver->Type = IO_TYPE_DRIVER;
    driver->Size = sizeof(DRIVER_OBJECT);
    driver->DriverName = *Name;
    driver->DriverInit = InitializationFunction;
    for (ULONG i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        driver->MajorFunction[i] = IopInvalidDeviceRequest;
    KIRQL irql;
    KeAcquireSpinLock(&IopLock, &irql);
    BOOLEAN room = IopDriverCount < MAX_DRIVERS;
    if (room)
        IopDrivers[IopDriverCount++] = driver;
    KeReleaseSpinLock(&IopLock, irql);
    if (!room) {
        ExFreePoolWithTag(driver, IO_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    return InitializationFunction(driver, NULL);
}

/* Lock held.  The slot of Name in the table, or of a free entry (Name NULL); -1 when none. */
static LONG name_slot(PCUNICODE_STRING Name)
{
    for (LONG i = 0; i < MAX_NAMES; i++) {
        BOOLEAN used = IopNames[i].Device != NULL;
        if (Name ? used && same_name(&IopNames[i].Name, Name) : !used)
            return i;
    }
    return -1;
}

NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PCUNICODE_STRING DeviceName,
                        ULONG DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject)
{
    UNREFERENCED_PARAMETER(Exclusive);
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    PDEVICE_OBJECT device = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(DEVICE_OBJECT) + DeviceExtensionSize, IO_TAG);
    if (device == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    device->Type = IO_TYPE_DEVICE;
    device->Size = (USHORT)(sizeof(DEVICE_OBJECT) + DeviceExtensionSize);
    device->DriverObject = DriverObject;
    device->DeviceType = DeviceType;
    device->Characteristics = DeviceCharacteristics;
    device->StackSize = 1;
    device->DeviceExtension = DeviceExtensionSize ? device + 1 : NULL;
    KIRQL irql;
    KeAcquireSpinLock(&IopLock, &irql);
    LONG slot = DeviceName ? (name_slot(DeviceName) >= 0 ? -2 : name_slot(NULL)) : 0;
    if (slot >= 0) {
        if (DeviceName) {
            IopNames[slot].Name = *DeviceName;
            IopNames[slot].Device = device;
        }
        device->NextDevice = DriverObject->DeviceObject;
        DriverObject->DeviceObject = device;
    }
    KeReleaseSpinLock(&IopLock, irql);
    if (slot < 0) {
        ExFreePoolWithTag(device, IO_TAG);
        return slot == -2 ? STATUS_OBJECT_NAME_COLLISION : STATUS_INSUFFICIENT_RESOURCES;
    }
    *DeviceObject = device;
    return STATUS_SUCCESS;
}

VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    KIRQL irql;

    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KeAcquireSpinLock(&IopLock, &irql);
    for (LONG i = 0; i < MAX_NAMES; i++)
        if (IopNames[i].Device == DeviceObject)
            IopNames[i].Device = NULL;
    PDEVICE_OBJECT *link = &DeviceObject->DriverObject->DeviceObject;
    while (*link && *link != DeviceObject)
        link = &(*link)->NextDevice;
    if (*link)
        *link = DeviceObject->NextDevice;
    KeReleaseSpinLock(&IopLock, irql);
    ExFreePoolWithTag(DeviceObject, IO_TAG);
}

NTSTATUS IoGetDeviceObjectPointer(PCUNICODE_STRING ObjectName, ULONG DesiredAccess, PVOID *FileObject,
                                  PDEVICE_OBJECT *DeviceObject)
{
    KIRQL irql;

    UNREFERENCED_PARAMETER(DesiredAccess);
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KeAcquireSpinLock(&IopLock, &irql);
    LONG slot = name_slot(ObjectName);
    PDEVICE_OBJECT device = slot >= 0 ? IopNames[slot].Device : NULL;
    KeReleaseSpinLock(&IopLock, irql);
    if (FileObject)
        *FileObject = NULL;
    if (device == NULL)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    *DeviceObject = device;
    return STATUS_SUCCESS;
}

ULONG IoQueryDrivers(PDRIVER_OBJECT *Drivers, ULONG Max)
{
    KIRQL irql;
    ULONG n = 0;

    KeAcquireSpinLock(&IopLock, &irql);
    for (; n < IopDriverCount && n < Max; n++)
        Drivers[n] = IopDrivers[n];
    KeReleaseSpinLock(&IopLock, irql);
    return n;
}

BOOLEAN IoQueryDeviceName(PDEVICE_OBJECT Device, PUNICODE_STRING Name)
{
    KIRQL irql;
    BOOLEAN found = FALSE;

    KeAcquireSpinLock(&IopLock, &irql);
    for (LONG i = 0; i < MAX_NAMES && !found; i++) {
        if (IopNames[i].Device == Device) {
            *Name = IopNames[i].Name;
            found = TRUE;
        }
    }
    KeReleaseSpinLock(&IopLock, irql);
    return found;
}
