import Synchronization

/// Per-bus state that the layers above the bus keep for themselves: the devices target
/// attaches its eventfd counters here, so the bus carries no device concept of its own.
///
/// Cold path only: an attachment is looked up when a registration is made, never on
/// dispatch (a device keeps what it looked up).
package final class BusAttachments: Sendable {
  private let attached = Mutex<[ObjectIdentifier: any Sendable & AnyObject]>([:])

  package init() {}

  /// The attachment of type `Attachment`, made by `make` on first use.
  package func attachment<Attachment: Sendable & AnyObject>(
    _ make: () -> Attachment
  ) -> Attachment {
    attached.withLock { attached in
      if let existing = attached[ObjectIdentifier(Attachment.self)] as? Attachment {
        return existing
      }
      let made = make()
      attached[ObjectIdentifier(Attachment.self)] = made
      return made
    }
  }
}
