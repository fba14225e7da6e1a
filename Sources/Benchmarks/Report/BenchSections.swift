/// The sections of `stress bench`, in report order: the one list a new section joins.
public enum BenchSections {
  /// Every section, in the order they are measured and reported.
  public static let all: [any BenchSection] = [
    ReadSideSection(),
    ReadTargetsSection(),
    FlavorChurnSection(),
    OversubscriptionSection(),
    ReclamationSection(),
    MembarrierSection(),
    WriteSideSection(),
    EventFDSection(),
    RingSection(),
  ]

  /// The words `--only` takes, in report order, each once.
  public static var options: [String] {
    all.map(\.option).reduce(into: []) { words, word in
      if !words.contains(word) { words.append(word) }
    }
  }

  /// The sections `options` select (every section for none), in report order.
  public static func selected(by options: [String]) -> [any BenchSection] {
    options.isEmpty ? all : all.filter { options.contains($0.option) }
  }
}
