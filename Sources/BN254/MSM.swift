import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multi-scalar multiplication Σ sᵢ·Pᵢ over affine bases in G1 or G2: Pippenger's bucket
/// method with signed digits and batch-affine bucket accumulation, on all cores.
///
/// It lives in BN254 because it is group arithmetic (DESIGN.md section 2: "MSM (Pippenger,
/// multi-threaded) and radix-2 NTT over Fr serve the prover"); `Groth16Prover` is its user.
///
/// Per window of c bits (window k covers bits [kc, kc + c)):
///
/// 1. **Signed digits.** Each scalar is recoded into digits in [−2^(c−1), 2^(c−1)] (a digit
///    above 2^(c−1) becomes d − 2^c with a carry into the next window), so a window needs only
///    2^(c−1) buckets and −P is free in affine form. With ⌈255/c⌉ windows the top window never
///    carries out, since r < 2^254.
/// 2. **Bucket accumulation in affine coordinates.** The points of a window are counting-sorted
///    by bucket (negated where the digit is negative), then every bucket is summed as a binary
///    tree: one *round* adds neighbouring pairs in all buckets at once, and all the slopes of a
///    round share one field inversion (Montgomery's trick). An affine addition then costs about
///    5M + 1S instead of 7M + 4S for a mixed Jacobian one. This is the batch-affine idea of the
///    ZPrize MSM entries (Barretenberg, Mitscha-Baude's "montgomery", gnark-crypto's
///    `msm_batch_affine`), arranged as a tree per bucket so that no collision queue is needed.
/// 3. **Bucket reduction.** Σ_b b·B_b by the running-sum trick (two Jacobian additions per bucket).
/// 4. **Windows.** Σ_k 2^(kc)·W_k by Horner's rule (c doublings per window).
///
/// Windows are independent jobs: `MSM.run` schedules the windows of *several* MSMs (G1 and G2
/// together) on one pool of workers, costliest first, so a prover's MSMs keep every core busy
/// to the end. Running time depends on the scalars (bucket indices), as in arkworks, gnark and
/// rapidsnark: the prover's secrets are blinded by r and s, and it runs on the owner's machine.
public enum MSM {
    /// Worker threads used by default: every active core.
    public static var defaultParallelism: Int { coreCount }

    /// Σ sᵢ·Pᵢ in G1. `bases.count` must equal `scalars.count`; points at infinity, zero
    /// scalars and repeated points are allowed. `windowBits` overrides the tuned window (1…15).
    public static func g1(_ bases: [G1Affine], _ scalars: [Fr], windowBits: Int? = nil,
                          parallelism: Int = defaultParallelism) -> G1Jacobian {
        run(g1: [Input(bases, scalars, windowBits: windowBits)], g2: [], parallelism: parallelism).g1[0]
    }

    /// Σ sᵢ·Pᵢ in G2.
    public static func g2(_ bases: [G2Affine], _ scalars: [Fr], windowBits: Int? = nil,
                          parallelism: Int = defaultParallelism) -> G2Jacobian {
        run(g1: [], g2: [Input(bases, scalars, windowBits: windowBits)], parallelism: parallelism).g2[0]
    }

    /// Σ sᵢ·Pᵢ on either curve (G1 and G2 take the specialised paths above).
    public static func multiply<C: CurveParameters>(_ bases: [AffinePoint<C>], _ scalars: [Fr],
                                                    threads: Int = defaultParallelism) -> JacobianPoint<C> {
        if let b = bases as? [G1Affine] { return g1(b, scalars, parallelism: threads) as! JacobianPoint<C> }
        if let b = bases as? [G2Affine] { return g2(b, scalars, parallelism: threads) as! JacobianPoint<C> }
        let plan = BucketPlan<C>(Input(bases, scalars))
        var scratch = BucketScratch<C>()
        for w in 0..<plan.windows { plan.runWindow(w, &scratch) }
        scratch.deallocate()
        return plan.result()
    }

    /// One MSM to compute: bases, scalars and (optionally) a forced window size.
    public struct Input<C: CurveParameters>: Sendable {
        public var bases: [AffinePoint<C>]
        public var scalars: [Fr]
        public var windowBits: Int?
        public init(_ bases: [AffinePoint<C>], _ scalars: [Fr], windowBits: Int? = nil) {
            precondition(bases.count == scalars.count, "MSM of \(bases.count) points and \(scalars.count) scalars")
            precondition(windowBits.map { (1...15).contains($0) } ?? true, "MSM window must be 1…15 bits")
            self.bases = bases; self.scalars = scalars; self.windowBits = windowBits
        }
    }

    /// Several MSMs at once: every window of every input is a job, and `parallelism` workers
    /// take jobs costliest first (a G2 window counts as three G1 windows of the same size).
    /// Results in input order.
    ///
    /// `progress`, if given, is told the fraction of the work done (by estimated cost) after each
    /// window, from the worker threads: a prover's real progress through its MSMs.
    public static func run(g1: [Input<G1Curve>], g2: [Input<G2Curve>],
                           parallelism: Int = defaultParallelism,
                           progress: (@Sendable (Double) -> Void)? = nil) -> (g1: [G1Jacobian], g2: [G2Jacobian]) {
        let plans1 = g1.map { BucketPlan<G1Curve>($0) }
        let plans2 = g2.map { BucketPlan<G2Curve>($0) }
        // Recoding (one Montgomery-to-canonical conversion per scalar) in parallel too.
        let recodes: [() -> Void] = plans1.flatMap(\.recodeJobs) + plans2.flatMap(\.recodeJobs)
        let recodeJobs = UncheckedSendable(recodes)
        if !recodes.isEmpty {
            parallelChunks(recodes.count, min(recodes.count, max(1, parallelism))) { lo, hi in
                for j in lo..<hi { recodeJobs.value[j]() }
            }
        }
        var jobs: [(cost: Int, curve: Int, plan: Int, window: Int)] = []
        for (i, p) in plans1.enumerated() {
            for w in 0..<p.windows { jobs.append((p.n + (1 << p.c), 0, i, w)) }
        }
        for (i, p) in plans2.enumerated() {
            for w in 0..<p.windows { jobs.append((3 * (p.n + (1 << p.c)), 1, i, w)) }
        }
        let ordered = jobs.sorted { $0.cost > $1.cost }
        let workers = max(1, min(parallelism, ordered.count))
        let queue = JobQueue(ordered.count)
        let total = Double(max(1, ordered.reduce(0) { $0 + $1.cost }))
        let done = ProgressCounter()
        let work: @Sendable (Int) -> Void = { _ in
            var scratch1 = BucketScratch<G1Curve>()
            var scratch2 = BucketScratch<G2Curve>()
            while let j = queue.next() {
                let job = ordered[j]
                if job.curve == 0 { plans1[job.plan].runWindow(job.window, &scratch1) }
                else { plans2[job.plan].runWindow(job.window, &scratch2) }
                if let progress { progress(Double(done.add(job.cost)) / total) }
            }
            scratch1.deallocate()
            scratch2.deallocate()
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        return (plans1.map { $0.result() }, plans2.map { $0.result() })
    }

    /// The window size c minimising the estimated cost of an n-point MSM, counted in field
    /// multiplications: ⌈255/c⌉ windows, each with about n batch-affine additions (≈ 6M), one
    /// shared inversion per tree round (≈ 350M; rounds ≈ log₂(n/2^(c−1)) + 1) and 2^(c−1)
    /// buckets to reduce (a mixed and a full Jacobian addition, ≈ 27M).
    public static func windowBits(for n: Int) -> Int {
        if n < 4 { return 2 }
        var best = 2
        var bestCost = Double.infinity
        for c in 2...15 {
            let windows = Double((255 + c - 1) / c)
            let buckets = Double(1 << (c - 1))
            let perBucket = Double(n) / buckets
            let rounds = perBucket > 1 ? log2(perBucket).rounded(.up) + 1 : 1
            let cost = windows * (6 * Double(n) + 27 * buckets + 350 * rounds)
            if cost < bestCost { bestCost = cost; best = c }
        }
        return best
    }
}

/// Per-worker scratch for one window: sorted points, bucket bookkeeping, batch-inversion
/// buffers. Grown on demand and reused across the windows (and MSMs) a worker runs.
struct BucketScratch<C: CurveParameters> {
    var points: UnsafeMutablePointer<AffinePoint<C>>? = nil
    var pointCapacity = 0
    var denominators: UnsafeMutablePointer<C.Field>? = nil
    var prefixes: UnsafeMutablePointer<C.Field>? = nil
    var kinds: UnsafeMutablePointer<UInt8>? = nil
    var start: UnsafeMutablePointer<Int32>? = nil
    var length: UnsafeMutablePointer<Int32>? = nil
    var active: UnsafeMutablePointer<Int32>? = nil
    var bucketCapacity = 0

    mutating func reserve(points n: Int, buckets: Int) {
        if n > pointCapacity {
            points?.deallocate(); denominators?.deallocate(); prefixes?.deallocate(); kinds?.deallocate()
            pointCapacity = n
            let pairs = n / 2 + 1
            points = .allocate(capacity: n)
            denominators = .allocate(capacity: pairs)
            prefixes = .allocate(capacity: pairs)
            kinds = .allocate(capacity: pairs)
        }
        if buckets + 1 > bucketCapacity {
            start?.deallocate(); length?.deallocate(); active?.deallocate()
            bucketCapacity = buckets + 1
            start = .allocate(capacity: bucketCapacity)
            length = .allocate(capacity: bucketCapacity)
            active = .allocate(capacity: bucketCapacity)
        }
    }

    func deallocate() {
        points?.deallocate(); denominators?.deallocate(); prefixes?.deallocate(); kinds?.deallocate()
        start?.deallocate(); length?.deallocate(); active?.deallocate()
    }
}

/// One MSM prepared for bucket processing: window size, signed digits (window-major), and a
/// slot per window for its partial sum. Workers write disjoint slots and digit columns.
final class BucketPlan<C: CurveParameters>: @unchecked Sendable {
    let bases: [AffinePoint<C>]
    let scalars: [Fr]
    let n: Int
    let c: Int
    let windows: Int
    /// digits[k·n + i] is the k-th signed digit of scalar i (0 for a point at infinity).
    let digits: UnsafeMutablePointer<Int16>
    let windowSums: UnsafeMutablePointer<JacobianPoint<C>>

    init(_ input: MSM.Input<C>) {
        bases = input.bases
        scalars = input.scalars
        n = bases.count
        c = input.windowBits ?? MSM.windowBits(for: n)
        windows = n == 0 ? 0 : (255 + c - 1) / c
        digits = .allocate(capacity: max(1, windows * n))
        windowSums = .allocate(capacity: max(1, windows))
        windowSums.initialize(repeating: .infinity, count: max(1, windows))
    }

    deinit {
        digits.update(repeating: 0, count: max(1, windows * n))  // digits of a prover's witness
        digits.deallocate()
        windowSums.deinitialize(count: max(1, windows))
        windowSums.deallocate()
    }

    /// Recoding split into chunks of 4096 scalars (run before any window job).
    var recodeJobs: [() -> Void] {
        stride(from: 0, to: n, by: 4096).map { lo in { self.recode(lo, min(self.n, lo + 4096)) } }
    }

    /// Signed base-2^c digits of scalars lo..<hi (canonical form), written window-major.
    func recode(_ lo: Int, _ hi: Int) {
        let c = self.c, n = self.n, windows = self.windows
        let mask = UInt(1 << c) - 1
        let half = 1 << (c - 1)
        bases.withUnsafeBufferPointer { bp in
            scalars.withUnsafeBufferPointer { sp in
                for i in lo..<hi {
                    let s = sp[i]
                    if s.isZero || bp[i].isInfinity {
                        for k in 0..<windows { digits[k * n + i] = 0 }
                        continue
                    }
                    let l = s.canonical
                    var carry = 0
                    for k in 0..<windows {
                        let bit = k * c
                        let limb = bit >> 6, shift = bit & 63
                        var chunk = limb < 4 ? l[limb] >> UInt(shift) : 0
                        if shift + c > 64 && limb + 1 < 4 { chunk |= l[limb + 1] << UInt(64 - shift) }
                        var d = Int(chunk & mask) + carry
                        if d > half { d -= 1 << c; carry = 1 } else { carry = 0 }
                        digits[k * n + i] = Int16(d)
                    }
                }
            }
        }
    }

    /// Window k's sum Σ_i digit_k(sᵢ)·Pᵢ = Σ_b b·(bucket b), stored in `windowSums[k]`:
    /// the points sorted into buckets, each bucket summed by rounds of pairwise affine
    /// additions, then the buckets weighted by a running sum.
    func runWindow(_ k: Int, _ scratch: inout BucketScratch<C>) {
        let half = 1 << (c - 1)
        scratch.reserve(points: n, buckets: half)
        guard sortIntoBuckets(k, scratch, half: half) else { windowSums[k] = .infinity; return }
        reduceBuckets(scratch, half: half)
        windowSums[k] = weightedBucketSum(scratch, half: half)
    }

    /// Counting sort of the points by bucket |digit| (a negative digit takes −P) into
    /// `scratch.points`, each bucket a segment [start[b], start[b] + length[b]). False when
    /// every digit of the window is 0.
    private func sortIntoBuckets(_ k: Int, _ scratch: BucketScratch<C>, half: Int) -> Bool {
        let pts = scratch.points!, start = scratch.start!, len = scratch.length!, cursor = scratch.active!
        let dig = digits + k * n
        for b in 0...half { len[b] = 0 }
        for i in 0..<n {
            let d = Int(dig[i])
            if d != 0 { len[d < 0 ? -d : d] += 1 }
        }
        var total: Int32 = 0
        for b in 1...half { start[b] = total; total += len[b] }
        if total == 0 { return false }
        for b in 1...half { cursor[b] = start[b] }
        bases.withUnsafeBufferPointer { bp in
            for i in 0..<n {
                let d = Int(dig[i])
                if d == 0 { continue }
                let b = d < 0 ? -d : d
                let pos = Int(cursor[b]); cursor[b] += 1
                var p = bp[i]
                if d < 0 { p.y = -p.y }
                (pts + pos).initialize(to: p)
            }
        }
        return true
    }

    /// Tree rounds over the buckets that still hold two or more points: every pair of every
    /// such bucket is added at once, with one field inversion per round (`invertInPlace`);
    /// the sums are packed at the front of each bucket's segment. Ends with each bucket's sum
    /// at start[b] (length 0 or 1).
    private func reduceBuckets(_ scratch: BucketScratch<C>, half: Int) {
        let pts = scratch.points!, den = scratch.denominators!, pre = scratch.prefixes!, kinds = scratch.kinds!
        let start = scratch.start!, len = scratch.length!, active = scratch.active!
        var activeCount = 0
        for b in 1...half where len[b] >= 2 { active[activeCount] = Int32(b); activeCount += 1 }
        while activeCount > 0 {
            // Pass 1: each pair's denominator, prefix products.
            var pairs = 0
            var acc = C.Field.one
            for a in 0..<activeCount {
                let b = Int(active[a])
                let s = Int(start[b]), m = Int(len[b])
                for j in 0..<(m >> 1) {
                    let (kind, d) = AffinePoint<C>.sumDenominator(pts[s + 2 * j], pts[s + 2 * j + 1])
                    kinds[pairs] = kind
                    if kind < 2 {
                        den[pairs] = d
                        pre[pairs] = acc
                        acc = acc * d
                    }
                    pairs += 1
                }
            }
            invertInPlace(den, prefixes: pre, kinds: kinds, count: pairs, product: acc)
            // Pass 2: the sums, packed at the front of each bucket's segment.
            pairs = 0
            var kept = 0
            for a in 0..<activeCount {
                let b = Int(active[a])
                let s = Int(start[b]), m = Int(len[b])
                for j in 0..<(m >> 1) {
                    let p = pts[s + 2 * j], q = pts[s + 2 * j + 1]
                    switch kinds[pairs] {
                    case 2: pts[s + j] = p.isInfinity ? q : p
                    case 3: pts[s + j] = .infinity
                    default: pts[s + j] = AffinePoint<C>.sum(p, q, kind: kinds[pairs], inverse: den[pairs])
                    }
                    pairs += 1
                }
                if m & 1 == 1 { pts[s + (m >> 1)] = pts[s + m - 1] }
                let newLength = (m + 1) >> 1
                len[b] = Int32(newLength)
                if newLength >= 2 { active[kept] = Int32(b); kept += 1 }
            }
            activeCount = kept
        }
    }

    /// Σ_b b·B_b = Σ_b (B_half + … + B_b), from the top bucket down.
    private func weightedBucketSum(_ scratch: BucketScratch<C>, half: Int) -> JacobianPoint<C> {
        let pts = scratch.points!, start = scratch.start!, len = scratch.length!
        var running = JacobianPoint<C>.infinity
        var sum = JacobianPoint<C>.infinity
        for b in stride(from: half, through: 1, by: -1) {
            if len[b] > 0 { running = running.adding(pts[Int(start[b])]) }
            if !running.isInfinity { sum = sum + running }
        }
        return sum
    }

    /// Σ_k 2^(kc)·W_k (Horner).
    func result() -> JacobianPoint<C> {
        var acc = JacobianPoint<C>.infinity
        for k in stride(from: windows - 1, through: 0, by: -1) {
            if !acc.isInfinity { for _ in 0..<c { acc = acc.doubled() } }
            acc = acc + windowSums[k]
        }
        return acc
    }
}

/// A running sum shared by the MSM's workers (for its progress reports).
final class ProgressCounter: Sendable {
    private let value = Atomic<Int>(0)
    /// Adds `n` and returns the new sum.
    func add(_ n: Int) -> Int { value.add(n, ordering: .relaxed).newValue }
}
