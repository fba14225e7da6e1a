public import VhostUser

/// Where one block guest keeps everything in guest memory: its code, its virtqueue, its
/// request header, status byte and buffers, its variables, and the latencies it measured.
/// Offsets are fixed; ``BlockGuestProgram`` sizes what varies.
public struct BlockGuestLayout: Sendable, Hashable {
  /// Bytes of one guest's area: 8 KiB of code, then 16 KiB of data.
  public static let areaSize = 0x6000
  /// Most latencies one round records (3 requests per operation at most).
  public static let latencySlots = 1024

  /// Guest-physical address of the first instruction.
  public let code: UInt64
  /// Guest-physical address of the data.
  public let data: UInt64
  /// The virtqueue (16-byte aligned, at the start of the data).
  public let queue: SplitQueueLayout

  /// A layout for the area at `base` with a queue of `queueSize` entries.
  public init(base: UInt64, queueSize: Int) throws(VhostUserError) {
    code = base
    data = base + 0x2000
    queue = try SplitQueueLayout(base: data, size: queueSize)
  }

  /// The operation number the next round starts with (u32).
  public var operation: UInt64 { data + 0x400 }
  /// The available index the guest published last (u32, low 16 bits).
  public var availableIndex: UInt64 { data + 0x404 }
  /// The interrupt slot: the VMM writes the used index it saw at its last call (u32).
  public var interruptSlot: UInt64 { data + 0x408 }
  /// 0, or the operation number + 1 of a request that timed out (the guest then halted).
  public var timedOut: UInt64 { data + 0x40C }
  /// Errors the guest found (wrong completion, status, data).
  public var errorCount: UInt64 { data + 0x410 }
  /// The last error: `code << 24 | operation & 0xFFFFFF` (codes: ``BlockGuestError``).
  public var lastError: UInt64 { data + 0x414 }
  /// The address the guest kicks now.
  public var notifyAddress: UInt64 { data + 0x418 }
  /// Latencies recorded this round.
  public var latencyCount: UInt64 { data + 0x41C }
  /// The time stamp (counter / 16) of the last kick.
  public var kickTime: UInt64 { data + 0x420 }
  /// The request type that timed out.
  public var timedOutType: UInt64 { data + 0x424 }
  /// Requests completed (u32).
  public var completedRequests: UInt64 { data + 0x428 }
  /// The four notify addresses the guest cycles through (u32 each).
  public var notifyTable: UInt64 { data + 0x440 }
  /// The request header (16 bytes).
  public var header: UInt64 { data + 0x500 }
  /// The status byte.
  public var status: UInt64 { data + 0x520 }
  /// The buffer written to the disk.
  public var writeBuffer: UInt64 { data + 0x1000 }
  /// The buffer read back into.
  public var readBuffer: UInt64 { data + 0x2000 }
  /// Latencies of this round's requests, time-stamp counter / 16 (u32 each).
  public var latencies: UInt64 { data + 0x3000 }
}

/// What the guest found wrong, in ``BlockGuestLayout/lastError``'s top byte.
public enum BlockGuestError: UInt32, Sendable, CaseIterable {
  /// The used index moved by more than the one request outstanding (a duplicate).
  case extraCompletion = 1
  /// The used entry names another descriptor chain.
  case wrongDescriptor = 2
  /// The data read back differs from the data written.
  case dataMismatch = 3
  /// The status byte is not OK.
  case badStatus = 4
}
