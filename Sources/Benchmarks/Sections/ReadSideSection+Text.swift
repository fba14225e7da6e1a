extension ReadSideSection {
  /// One table per table size and churn: each design at each thread count.
  public func render(_ read: [ReadCell]) -> String {
    guard !read.isEmpty else { return "" }
    var text = ReportText(
      heading: "READ SIDE: ns/dispatch = CPU time per dispatch (median of rounds);",
      "Mdisp/s = all threads together (median [min-max]); xA, xB = how many times",
      "slower than (a) the unsynchronized floor (no churn) and (b) the RCU bus on memb.")
    let threads = Set(read.map(\.threads)).sorted()
    for entries in Set(read.map(\.entries)).sorted() {
      for churn in Churn.allCases {
        let rows = read.filter { $0.entries == entries && $0.churn == churn }
        guard !rows.isEmpty else { continue }
        text.line()
        text.line("\(entries) entries, churn: \(churn.rawValue)")
        // Without churn there is no writer, and no upd/s column: the row's last cell is
        // left out by the missing column.
        let columns: [TextColumn] =
          [.left(20), .right(4), .right(9), .right(9), .right(16), .right(7), .right(7)]
          + (churn == .none ? [] : [.right(9)])
        text.row(columns, "design", "thr", "ns/disp", "Mdisp/s", "range", "xA", "xB", "upd/s")
        for design in Design.allCases {
          for count in threads {
            guard let cell = rows.cell(design, entries: entries, threads: count, churn: churn)
            else { continue }
            text.row(
              columns, design.label, "\(count)", fixed(cell.nanosPerDispatch.median),
              fixed(cell.throughput.median / 1e6, 1), rangeText(cell.throughput, 1, unit: 1e6),
              fixed(cell.slowdownVsFloor), fixed(cell.slowdownVsRCU),
              fixed(cell.updatesPerSecond.median, 0))
          }
        }
      }
    }
    return text.text
  }
}
