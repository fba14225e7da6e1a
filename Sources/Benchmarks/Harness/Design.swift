/// The bus designs compared on the read side.
public enum Design: String, CaseIterable, Codable, Sendable {
  /// (a) No synchronization: one owner, the floor.
  case floor
  /// (b) This project's RCU bus on liburcu's memb flavor, `IOBus<MembRCU>`.
  case memb
  /// (b') The same bus on liburcu's qsbr flavor, `IOBus<QSBRRCU>`: readers registered
  /// online, announcing a quiescent state every ``dispatchesPerCheck`` (64) dispatches.
  case qsbr
  /// (c) The table behind a pthread rwlock.
  case rwlock
  /// (d) The table behind a pthread mutex.
  case mutex
  /// (e) An atomically swapped class reference, retained per lookup.
  case swapped

  /// The design's name in the text report.
  public var label: String {
    switch self {
    case .floor: "(a) unsynchronized"
    case .memb: "(b) RCU bus, memb"
    case .qsbr: "(b') RCU bus, qsbr"
    case .rwlock: "(c) rwlock"
    case .mutex: "(d) mutex"
    case .swapped: "(e) swapped ref"
    }
  }

  /// The design's longer name in charts and Markdown tables.
  var caption: String {
    switch self {
    case .floor: "(a) unsynchronized floor"
    case .rwlock: "(c) pthread rwlock"
    case .mutex: "(d) pthread mutex"
    case .swapped: "(e) swapped ref, retain per lookup"
    case .memb, .qsbr: label
    }
  }

  /// How the design's lines look in charts.
  var style: ChartSeries.Style {
    switch self {
    case .floor: ChartSeries.Style(color: "black", dash: "--", marker: "o")
    case .memb: ChartSeries.Style(color: "tab:green", dash: "-", marker: "s")
    case .qsbr: ChartSeries.Style(color: "tab:olive", dash: "-", marker: "P")
    case .rwlock: ChartSeries.Style(color: "tab:orange", dash: "-", marker: "^")
    case .mutex: ChartSeries.Style(color: "tab:red", dash: "-", marker: "v")
    case .swapped: ChartSeries.Style(color: "tab:blue", dash: "-", marker: "D")
    }
  }
}
