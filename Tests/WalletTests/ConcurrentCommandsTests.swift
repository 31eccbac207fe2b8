import Foundation
import TestSupport
import Testing

/// Issue 19, point 5: two commands on one wallet at once. Without the wallet's lock both sends
/// picked the same note, both proved, and the second ended in a 409 double spend. With it the
/// second waits, says so, and then pays with another note: both settle.
@Suite(.serialized) struct ConcurrentCommandsTests {
    typealias E = EndToEndTests

    @Test func twoSendsFromOneWalletAtOnceBothSettle() async throws {
        try await offCooperativePool {
            let server = try E.Server()
            defer { server.stop() }
            // Two notes, 50 and 40: each send below fits in either.
            let (a, b, addressB) = try E.alicePaysBob(server, deposits: [50, 40])

            let results = ResultBox()
            let group = DispatchGroup()
            let url = server.url
            for amount in [30, 20] {
                group.enter()
                Thread {
                    let r = Result { try Executables.run("zkwallet", ["send", String(amount), "--to", addressB, "--json", "--wallet", a.path, "--server", url]) }
                    results.append(amount, r)
                    group.leave()
                }.start()
            }
            group.wait()
            let runs = try results.all.map { ($0.0, try $0.1.get()) }
            for (amount, r) in runs { E.ok(r, "send \(amount)") }
            #expect(runs.contains { $0.1.stderr.contains("waiting for another zkwallet command on this wallet") },
                    "neither send waited: \(runs.map(\.1.stderr))")
            let bob = try E.zkwallet(["balance", "--json"], wallet: b, server: server)
            #expect((bob.object["spendable"] as? NSNumber)?.intValue == 50, "\(bob.stdout)")
            let alice = try E.zkwallet(["balance", "--json"], wallet: a, server: server)
            #expect((alice.object["spendable"] as? NSNumber)?.intValue == 40 && (alice.object["pending"] as? NSNumber)?.intValue == 0, "\(alice.stdout)")
        }
    }
}

/// Results gathered from threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Int, Result<Executables.Output, Error>)] = []
    func append(_ key: Int, _ r: Result<Executables.Output, Error>) { lock.withLock { items.append((key, r)) } }
    var all: [(Int, Result<Executables.Output, Error>)] { lock.withLock { items } }
}
