import Testing

@testable import Benchmarks

extension BenchmarkTests {
  @Suite("per-flavor sections")
  struct PerFlavor {
    let settings = BenchSettings.tiny()

    @Test("churn cost: a cell per flavor and reader count, both targets judged")
    func churnCost() throws {
      let section = FlavorChurnSection()
      let cells = try section.measure(settings)
      #expect(cells.map(\.readers) == [1, 1, 2, 2])
      #expect(cells.map(\.flavor) == [.memb, .qsbr, .memb, .qsbr])
      #expect(cells.allSatisfy { $0.loss.samples.count == settings.rounds })
      #expect(
        section.judge(cells, settings: settings).map(\.name) == [
          "1 reader, 64 entries: churn at 1000/s costs qsbr readers <= 3%",
          "2 readers on 2 cores: churn costs qsbr <= half of memb's loss",
        ])
      #expect(try roundTrip(cells) == cells)
      #expect(section.figures(cells, settings: settings).tables[0].rows.count == cells.count)
    }

    @Test("qsbr's loss is held to half of memb's, whatever memb's sign")
    func halfOfMembsLoss() throws {
      let section = FlavorChurnSection()
      func verdict(qsbr: Double, memb: Double) -> TargetVerdict.Outcome {
        let cells = [(BenchFlavor.memb, memb), (.qsbr, qsbr)].map { flavor, loss in
          FlavorChurnSection.Cell(
            flavor: flavor, entries: 64, readers: 2, quiet: Spread([1]), churned: Spread([1]),
            updatesPerSecond: Spread([1000]), loss: Spread([loss]),
            unregister: SampleSummary(nanos: [1]))
        }
        return section.judge(cells, settings: settings).last!.outcome
      }
      #expect(verdict(qsbr: 0.1, memb: 0.3) == .met)
      #expect(verdict(qsbr: 0.2, memb: 0.3) == .missed)
      #expect(verdict(qsbr: -0.2, memb: -0.1) == .met)
      #expect(verdict(qsbr: 0, memb: -0.1) == .missed)
    }

    @Test("oversubscription: a cell per flavor and behaviour, 2 x cores readers")
    func oversubscription() throws {
      let section = OversubscriptionSection()
      let cells = try section.measure(settings)
      #expect(cells.count == ReaderBehaviour.allCases.count * settings.flavors.count)
      #expect(cells.allSatisfy { $0.readers == 4 && $0.cores == 2 })
      #expect(cells.allSatisfy { $0.updatesPerSecond.samples.count == settings.rounds })
      #expect(section.judge(cells, settings: settings).count == 1)
      let panel = try #require(
        section.figures(cells, settings: settings).charts.first?.panels.first)
      #expect(panel.categories == ["memb", "qsbr"])
      #expect(panel.series.map(\.label) == ["tight-loop readers", "vcpu-like readers"])
    }

    @Test("reclamation: every unregister of every kind timed, a target per flavor and pace")
    func reclamation() throws {
      let section = ReclamationSection(count: 3)
      let cells = try section.measure(settings)
      #expect(cells.map(\.pace) == [.inARow, .inARow, .cold, .cold])
      for cell in cells {
        #expect([cell.synchronous, cell.deferred, cell.async].map(\.count) == [3, 3, 3])
      }
      #expect(section.judge(cells, settings: settings).count == cells.count)
      #expect(try roundTrip(cells) == cells)
    }
  }
}
