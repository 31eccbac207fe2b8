import Foundation
import FuzzTargets
import TestSupport
import Testing

/// The fuzz targets in the ordinary test run: their seeds stay valid examples, and every input a
/// fuzzer ever broke something with (`Fuzz/Regressions/<target>/`) stays harmless.
/// A broken promise stops the test process with "fuzz finding: …" (the target's `fatalError`).
@Suite struct FuzzTargetTests {
    static let fuzzDirectory = SharedVectors.repositoryRoot.appendingPathComponent("Fuzz")

    static func files(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let dir = fuzzDirectory.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    @Test(arguments: FuzzTarget.allCases)
    func examplesAreAcceptedAndKeepEveryPromise(_ target: FuzzTarget) throws {
        let examples = target.examples()
        #expect(!examples.isEmpty)
        for example in examples {
            #expect(target.accepts(example))
            target.run(example)
        }
        // ZKSETTLE_WRITE_FUZZ_SEEDS=1 swift test -c release --filter FuzzTargetTests rewrites the seeds.
        if ProcessInfo.processInfo.environment["ZKSETTLE_WRITE_FUZZ_SEEDS"] != nil {
            let dir = Self.fuzzDirectory.appendingPathComponent("Seeds").appendingPathComponent(target.rawValue)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (i, example) in examples.enumerated() {
                try Data(example).write(to: dir.appendingPathComponent("example-\(i)"))
            }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func checkedInSeedsAreStillAccepted(_ target: FuzzTarget) throws {
        let seeds = Self.files("Seeds", target)
        #expect(!seeds.isEmpty, "Fuzz/Seeds/\(target.rawValue) is empty")
        for seed in seeds {
            let input = try Self.bytes(seed)
            #expect(target.accepts(input), "\(seed.lastPathComponent) no longer decodes; rewrite the seeds (see examplesAreAcceptedAndKeepEveryPromise)")
            target.run(input)
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func savedFindingsStayFixed(_ target: FuzzTarget) throws {
        for finding in Self.files("Regressions", target) { target.run(try Self.bytes(finding)) }
    }

    /// Every proof and verifying key of Tests/Vectors, valid or deliberately broken, goes
    /// through the JSON targets without breaking a promise; the valid ones are accepted.
    @Test func sharedVectorsKeepEveryPromise() throws {
        let root = SharedVectors.url("groth16")
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        var proofs = 0, keys = 0
        while let url = walker?.nextObject() as? URL {
            switch url.lastPathComponent {
            case "proof.json":
                let input = try Self.bytes(url)
                FuzzTarget.proofJSON.run(input); proofs += 1
                if url.deletingLastPathComponent().lastPathComponent.hasPrefix("valid") { #expect(FuzzTarget.proofJSON.accepts(input)) }
            case "verification_key.json":
                let input = try Self.bytes(url)
                #expect(FuzzTarget.verifyingKeyJSON.accepts(input))
                FuzzTarget.verifyingKeyJSON.run(input); keys += 1
            default: continue
            }
        }
        #expect(proofs > 0 && keys > 0)
    }

    /// The targets refuse what their decoders must refuse: one flipped byte of a note ciphertext
    /// (authenticated encryption) or one changed character of an address (bech32m checksum).
    @Test func damagedExamplesAreRefused() {
        for example in FuzzTarget.noteCiphertext.examples() {
            for i in stride(from: 0, to: example.count, by: 7) {
                var bad = example; bad[i] ^= 0x01
                #expect(!FuzzTarget.noteCiphertext.accepts(bad), "byte \(i)")
            }
        }
        let address = FuzzTarget.addressString.examples()[0]
        for i in 4..<address.count {
            var bad = address; bad[i] = bad[i] == UInt8(ascii: "q") ? UInt8(ascii: "p") : UInt8(ascii: "q")
            #expect(!FuzzTarget.addressString.accepts(bad), "character \(i)")
        }
    }
}
