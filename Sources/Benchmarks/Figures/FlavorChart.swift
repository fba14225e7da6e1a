/// The chart the per-flavor sections share: each adds its panel of bars, one group of bars
/// per flavor.
enum FlavorChart {
  /// A chart of one per-flavor panel; `Scripts/plot.py` draws every section's into one file.
  static func chart(_ panel: ChartPanel) -> Chart {
    Chart(file: "flavors.png", title: "Per RCU flavor (medians of one run)", panels: [panel])
  }

  /// A panel with a group of bars per flavor among `cells` (in report order), one bar per
  /// `groups` value: the `value` of the cell of that flavor and group, 0 where none was
  /// measured.
  static func bars<Cell, Group: Equatable>(
    _ cells: [Cell], title: String, yLabel: String, guide: Double? = nil,
    flavor: (Cell) -> BenchFlavor, groups: [Group], group: (Cell) -> Group,
    label: (Group) -> String, value: (Cell) -> Double
  ) -> ChartPanel {
    let flavors = BenchFlavor.allCases.filter { candidate in
      cells.contains { flavor($0) == candidate }
    }
    return .bars(
      title: title, yLabel: yLabel, categories: flavors.map(\.rawValue), guide: guide,
      series: groups.map { wanted in
        ChartSeries(
          label: label(wanted), x: flavors.indices.map(Double.init),
          y: flavors.map { candidate in
            cells.first { flavor($0) == candidate && group($0) == wanted }.map(value) ?? 0
          })
      })
  }
}
