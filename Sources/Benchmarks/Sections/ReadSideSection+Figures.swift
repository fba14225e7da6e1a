extension ReadSideSection {
  /// Three tables (throughput and cost per dispatch without churn, throughput under churn)
  /// and three charts (throughput against threads, without and with churn; cost against table
  /// size).
  public func figures(_ read: [ReadCell], settings: BenchSettings) -> SectionFigures {
    guard !read.isEmpty else { return SectionFigures() }
    return SectionFigures(tables: tables(read), charts: charts(read, cores: settings.cores))
  }

  private func tables(_ read: [ReadCell]) -> [FigureTable] {
    let sizes = Set(read.map(\.entries)).sorted()
    let threads = Set(read.map(\.threads)).sorted()
    /// One row per design and thread count, one column per `columns` (headed by `headings`),
    /// a cell per `cell`.
    func table<Column>(
      _ title: String, _ columns: [Column], headings: [String],
      _ cell: (Design, Int, Column) -> String
    ) -> FigureTable {
      FigureTable(
        title: title, columns: ["design", "threads"] + headings,
        rows: Design.allCases.flatMap { design in
          threads.map { count in
            [design.caption, "\(count)"] + columns.map { cell(design, count, $0) }
          }
        })
    }
    func bySize(_ title: String, _ text: @escaping (ReadCell) -> String) -> FigureTable {
      table(title, sizes, headings: sizes.map { "\($0) entries" }) { design, count, entries in
        read.cell(design, entries: entries, threads: count).map(text) ?? "-"
      }
    }
    let churned = sizes.contains(64) ? 64 : sizes[0]
    return [
      bySize("Read side, no churn: million dispatches/s, all threads (slowdown vs (a), vs (b))") {
        "\(fixed($0.throughput.median / 1e6, 1)) "
          + "(\(fixed($0.slowdownVsFloor))x, \(fixed($0.slowdownVsRCU))x)"
      },
      bySize("Read side, no churn: CPU ns per dispatch (median; min-max over rounds)") {
        let cost = $0.nanosPerDispatch
        return "\(fixed(cost.median, 1)) (\(fixed(cost.min, 1))-\(fixed(cost.max, 1)))"
      },
      table(
        "Churn, \(churned) entries: million dispatches/s (writer updates/s achieved)",
        churns(read), headings: churns(read).map(\.rawValue)
      ) { design, count, churn in
        guard let cell = read.cell(design, entries: churned, threads: count, churn: churn)
        else { return "-" }
        let throughput = fixed(cell.throughput.median / 1e6, 1)
        return churn == .none
          ? throughput : "\(throughput) (\(fixed(cell.updatesPerSecond.median, 0))/s)"
      },
    ]
  }

  private func charts(_ read: [ReadCell], cores: Int) -> [Chart] {
    let sizes = Set(read.map(\.entries)).sorted()
    let threads = Set(read.map(\.threads)).sorted()
    let throughputTitle = "Throughput vs threads (\(cores) cores; median, bars = min-max of rounds)"
    func throughputPanel(_ title: String, _ cells: [ReadCell], first: Bool) -> ChartPanel {
      .lines(
        title: title, xLabel: "reader threads", yLabel: "million dispatches / s (all threads)",
        xTicks: threads.map(Double.init), legend: first,
        series: lines(cells, x: \.threads, y: \.throughput, unit: 1e6))
    }
    let churns = churns(read)
    return [
      Chart(
        file: "throughput-vs-threads.png", title: throughputTitle, columns: min(sizes.count, 2),
        panels: sizes.enumerated().map { index, entries in
          throughputPanel(
            "\(entries) entries, no churn",
            read.filter { $0.entries == entries && $0.churn == .none }, first: index == 0)
        }),
      Chart(
        file: "throughput-vs-threads-churn.png", title: throughputTitle,
        columns: min(churns.count, 2),
        panels: churns.enumerated().map { index, churn in
          throughputPanel(
            "64 entries, churn \(churn.rawValue)",
            read.filter { $0.entries == 64 && $0.churn == churn }, first: index == 0)
        }),
      Chart(
        file: "ns-vs-table-size.png",
        title: "Cost per dispatch vs table size (median, bars = min-max of rounds)",
        panels: threads.enumerated().map { index, count in
          .lines(
            title: "\(count) thread(s), no churn", xLabel: "table entries",
            yLabel: "CPU ns per dispatch", logX: true, legend: index == 0,
            series: lines(
              read.filter { $0.threads == count && $0.churn == .none }, x: \.entries,
              y: \.nanosPerDispatch, unit: 1))
        }),
    ]
  }

  /// One line per design with cells among `cells`, over `x`, its points `y` in `unit`s.
  private func lines(
    _ cells: [ReadCell], x: KeyPath<ReadCell, Int>, y: KeyPath<ReadCell, Spread>, unit: Double
  ) -> [ChartSeries] {
    Design.allCases.compactMap { design in
      let points = cells.filter { $0.design == design }.sorted { $0[keyPath: x] < $1[keyPath: x] }
      guard !points.isEmpty else { return nil }
      return ChartSeries(
        label: design.caption, x: points.map { Double($0[keyPath: x]) },
        y: points.map { $0[keyPath: y].median / unit },
        yMin: points.map { $0[keyPath: y].min / unit },
        yMax: points.map { $0[keyPath: y].max / unit }, style: design.style)
    }
  }

  /// The churn modes measured, in order.
  private func churns(_ read: [ReadCell]) -> [Churn] {
    Churn.allCases.filter { churn in read.contains { $0.churn == churn } }
  }
}
