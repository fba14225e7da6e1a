// The module a VMM imports. It re-exports the three layers it is built from, so that
// `import ConcurrentBus` alone is enough to name `IOBus<MembRCU>` in a stored property,
// register an `EventFD`, or pick another RCU flavor.
@_exported import ConcurrentBusCore
@_exported import ConcurrentBusDevices
@_exported import RCU
