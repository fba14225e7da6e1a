/// A section's part of the text report, built line by line.
struct ReportText {
  /// The lines so far, each ended by a newline.
  private(set) var text = ""

  /// A section's text so far: a blank line, then its `heading` lines.
  init(heading: String...) {
    text = "\n" + heading.map { $0 + "\n" }.joined()
  }

  /// Appends `line` and a newline.
  mutating func line(_ line: String = "") { text += line + "\n" }

  /// Appends one row of `columns`, each cell padded to its column.
  mutating func row(_ columns: [TextColumn], _ cells: String...) {
    line(zip(columns, cells).map { $0.pad($1) }.joined())
  }
}

/// A column of a fixed-width text table: its width and the side it aligns its cells to.
struct TextColumn {
  /// Which side a cell's text sits on.
  enum Alignment { case left, right }

  let width: Int
  let alignment: Alignment

  /// A column of `width` characters, text on the left.
  static func left(_ width: Int) -> TextColumn { TextColumn(width: width, alignment: .left) }

  /// A column of `width` characters, text on the right.
  static func right(_ width: Int) -> TextColumn { TextColumn(width: width, alignment: .right) }

  /// `text` padded with spaces to the column's width; longer text is left as it is.
  func pad(_ text: String) -> String {
    let fill = String(repeating: " ", count: Swift.max(0, width - text.count))
    return alignment == .left ? text + fill : fill + text
  }
}

/// `value` with `digits` decimals, or "-" when there is none (nil, NaN or infinite).
func fixed(_ value: Double?, _ digits: Int = 2) -> String {
  guard let value, value.isFinite else { return "-" }
  return String(format: "%.\(digits)f", value)
}

/// Nanoseconds shown as microseconds, one decimal.
func micros(_ nanos: Double) -> String { fixed(nanos / 1000, 1) }

/// A spread's range, `[min-max]`, each divided by `unit`, with `digits` decimals.
func rangeText(_ spread: Spread, _ digits: Int, unit: Double = 1) -> String {
  "[\(fixed(spread.min / unit, digits))-\(fixed(spread.max / unit, digits))]"
}
