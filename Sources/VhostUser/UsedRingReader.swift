/// What a back end wrote to a used ring that the split-queue rules forbid.
public enum UsedRingError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The ring lies (partly) outside guest memory.
  case outsideGuestMemory
  /// The used index moved by `advance` entries when only `available` were outstanding: a
  /// completion nobody asked for (duplicated), or an index jump.
  case beyondAvailable(advance: UInt16, available: UInt16)
  /// A used entry names descriptor `id`, outside the queue's `size`.
  case descriptorOutOfRange(id: UInt32, size: Int)

  public var description: String {
    switch self {
    case .outsideGuestMemory: "the ring lies outside guest memory"
    case .beyondAvailable(let advance, let available):
      "the used index moved by \(advance) with \(available) request(s) outstanding"
    case .descriptorOutOfRange(let id, let size): "used entry names descriptor \(id) of \(size)"
    }
  }
}

/// One completion read from a used ring.
public struct UsedRingCompletion: Sendable, Hashable {
  /// The head descriptor of the completed chain.
  public let id: UInt32
  /// Bytes the back end says it wrote into the chain's writable buffers.
  public let length: UInt32
}

/// The VMM's reader of one used ring: it follows the used index the back end publishes and
/// checks every new entry before anyone acts on it. The back end is not trusted: an index
/// that runs ahead of what the driver made available, or an entry naming a descriptor
/// outside the queue, is a ``UsedRingError`` (the reader stays where it was); every access
/// goes through a ``GuestMemoryWindow``, so nothing outside guest RAM is ever touched.
public struct UsedRingReader: Sendable {
  /// The queue's layout.
  public let layout: SplitQueueLayout
  /// Guest memory.
  public let memory: GuestMemoryWindow
  /// The used index up to which completions have been taken.
  public private(set) var consumed: UInt16

  /// A reader of `layout` in `memory`, starting at used index `consumed`.
  public init(layout: SplitQueueLayout, memory: GuestMemoryWindow, consumed: UInt16 = 0)
    throws(UsedRingError)
  {
    guard memory.contains(layout.descriptorTable, length: layout.byteCount) else {
      throw .outsideGuestMemory
    }
    self.layout = layout
    self.memory = memory
    self.consumed = consumed
  }

  /// Takes the completions published since the last call, after checking them all against
  /// the available ring: none beyond what the driver made available, none naming a
  /// descriptor outside the queue.
  public mutating func takeCompletions() throws(UsedRingError) -> [UsedRingCompletion] {
    guard let used = memory.load16(layout.usedIndex),
      let available = memory.load16(layout.availableIndex)
    else { throw .outsideGuestMemory }
    let advance = used &- consumed
    let outstanding = available &- consumed
    guard advance <= outstanding, Int(advance) <= layout.size else {
      throw .beyondAvailable(advance: advance, available: outstanding)
    }
    var completions: [UsedRingCompletion] = []
    completions.reserveCapacity(Int(advance))
    for step in 0..<advance {
      let entry = layout.usedEntry(consumed &+ step)
      guard let id = memory.load32(entry), let length = memory.load32(entry + 4) else {
        throw .outsideGuestMemory
      }
      guard id < UInt32(layout.size) else {
        throw .descriptorOutOfRange(id: id, size: layout.size)
      }
      completions.append(UsedRingCompletion(id: id, length: length))
    }
    consumed = used
    return completions
  }

  /// The used index the back end has published, or nil outside guest memory.
  public var publishedIndex: UInt16? { memory.load16(layout.usedIndex) }
}
