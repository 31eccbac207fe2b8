import ArgumentParser
import BN254
import Foundation

/// `zksettle-bench`: measures the hot paths; every subcommand prints one JSON object.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zksettle-bench",
        abstract: "Measure ZKSettle's hot paths. Each subcommand prints one JSON object on stdout.",
        subcommands: [FieldBench.self, PairingBench.self, VerifyBench.self, ProveBench.self, MSMBench.self, SyntheticProveBench.self,
                      PoseidonBench.self, LedgerBench.self, LoadBench.self, SyncBench.self, KeyCheckBench.self])
}

/// Timing helpers: medians over repeated samples, in milliseconds.
enum Timer {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Median milliseconds of one call of `body`, taken over `samples` samples of `inner` calls,
    /// after a warm-up of at least one call and up to 100 ms. Without it the first figure a
    /// process measured was sometimes 1.5× the rest on this machine (a pairing of 1.27 ms in the
    /// same run whose parts summed to 0.79 ms), the core still waking up.
    static func median(samples: Int, inner: Int = 1, _ body: () -> Void) -> Double {
        let warmStart = now()
        repeat { body() } while now() - warmStart < 100_000_000
        var times: [Double] = []
        for _ in 0..<max(samples, 1) {
            let t0 = now()
            for _ in 0..<inner { body() }
            times.append(Double(now() - t0) / 1e6 / Double(inner))
        }
        times.sort()
        return times[times.count / 2]
    }
}

/// Prints a JSON object with sorted keys.
func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
    print(String(decoding: data, as: UTF8.self))
}

/// Keeps a value alive so the optimizer cannot delete the work that produced it.
@inline(never)
func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

func round4(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }
func round6(_ x: Double) -> Double { (x * 1_000_000).rounded() / 1_000_000 }

extension Fp {
    /// Deterministic pseudo-random element for benchmarks (not for keys).
    static func sample(_ i: UInt64) -> Fp { Fp(i &* 0x9E37_79B9_7F4A_7C15 | 1).pow(Limbs(7, 0, 0, 0)) }
}
