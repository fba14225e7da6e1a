import Testing

@testable import Benchmarks

extension BenchmarkTests {
  @Suite("read side")
  struct ReadSide {
    let settings = BenchSettings.tiny(sizes: [16, 64, 10000])

    @Test("every configured cell is measured once, every dispatch claimed, every target judged")
    func cellsAndTargets() throws {
      let section = ReadSideSection()
      let cells = try section.measure(settings)
      #expect(cells.count == 3 * 2 * (6 + 5 + 5), "the floor runs without churn only")
      for entries in settings.sizes {
        for threads in settings.threadCounts {
          for churn in Churn.allCases {
            for design in Design.allCases {
              let cell = cells.cell(design, entries: entries, threads: threads, churn: churn)
              if design == .floor && churn != .none {
                #expect(cell == nil)
                continue
              }
              let measured = try #require(cell, "\(design) \(entries) \(threads) \(churn)")
              #expect(measured.unclaimed == 0)
              #expect(measured.throughput.samples.count == settings.rounds)
              #expect(measured.slowdownVsFloor != nil && measured.slowdownVsRCU != nil)
            }
          }
        }
      }
      #expect(section.judge(cells, settings: settings).isEmpty, "ReadTargetsSection judges")
      #expect(try roundTrip(cells) == cells)

      let text = section.render(cells)
      let rows = text.split(separator: "\n").filter { line in
        Design.allCases.contains { line.hasPrefix($0.label) }
      }
      #expect(rows.count == cells.count)
      let figures = section.figures(cells, settings: settings)
      #expect(figures.tables.map(\.rows.count) == [12, 12, 12], "6 designs x 2 thread counts")
      #expect(figures.charts.map(\.panels.count) == [3, 3, 2], "sizes, churns, thread counts")
    }

    @Test("filters narrow the cells to what was asked for")
    func filters() throws {
      var settings = BenchSettings.tiny(sizes: [16], threadCounts: [1])
      settings.designs = [.floor, .memb]
      let cells = try ReadSideSection().measure(settings)
      #expect(Set(cells.map(\.design)) == [.floor, .memb])
      #expect(cells.count == 1 + 3, "the floor without churn, memb under every churn")
      let targets = try ReadTargetsSection().measure(settings)
      #expect(targets.rounds.isEmpty, "no 64-entry configuration")
      #expect(ReadTargetsSection().judge(targets, settings: settings).isEmpty)
    }

    @Test("the targets' configurations run side by side in every round; every target judged")
    func pairedRounds() throws {
      let section = ReadTargetsSection()
      let result = try section.measure(settings)
      #expect(result.rounds.count == settings.rounds, "quick settings: no more rounds")
      let configurations = Set(result.rounds.joined().map(\.configuration))
      #expect(configurations.count == 10)
      #expect(result.rounds.allSatisfy { Set($0.map(\.configuration)) == configurations })
      #expect(result.rounds.joined().allSatisfy { $0.unclaimed == 0 })
      let verdicts = section.judge(result, settings: settings)
      #expect(
        verdicts.map(\.name) == [
          "1 thread, 64 entries: RCU bus (memb) <= 1.2x the floor",
          "1 thread, 64 entries: RCU bus (qsbr) <= 1.02x the floor",
          "2 threads, 64 entries: RCU bus (memb) >= 1.9x its 1-thread throughput",
          "2 threads, 64 entries: RCU bus (memb) >= 15x (c) rwlock",
          "2 threads, 64 entries: RCU bus (memb) >= 15x (e) swapped ref",
          "1 thread: RCU bus (memb) at 10000 entries <= 2.5x its 16-entry cost",
          "1 thread(s), 64 entries: churn at 1000/s costs memb readers <= 5%",
          "2 thread(s), 64 entries: churn at 1000/s costs memb readers <= 5%",
        ])
      #expect(verdicts.allSatisfy { $0.value != nil && $0.interval != nil })
      #expect(try roundTrip(result) == result)
      #expect(section.figures(result, settings: settings).tables[0].rows.count == 10)
    }

    @Test("rounds go on while a target is unresolved, up to the most rounds allowed")
    func moreRounds() throws {
      var settings = BenchSettings.tiny(sizes: [64], threadCounts: [1])
      settings.designs = [.floor, .qsbr]
      settings.rounds = 2
      settings.maximumRounds = 4
      let result = try ReadTargetsSection().measure(settings)
      let verdict = try #require(ReadTargetsSection().judge(result, settings: settings).first)
      // 1.02x is a margin of 0.02: a 5 ms run's spread keeps the interval wider, so the
      // target stays unresolved and the rounds stop at the most allowed, unless the interval
      // happened to clear the limit first.
      #expect(result.rounds.count >= 2 && result.rounds.count <= 4)
      #expect(result.rounds.count == 4 || verdict.isSettled)
    }
  }
}
