/// Per-client admission state (issue 14, point 4), kept by `Admission`: what each
/// client has in flight, its token bucket, and its probation. Entries of clients that hold
/// nothing are dropped, so the maps hold only clients seen recently.
struct ClientLimits {
    private(set) var inFlight: [String: Int] = [:]
    private var buckets: [String: (tokens: Double, at: UInt64)] = [:]
    private var probationUntil: [String: UInt64] = [:]

    mutating func add(_ client: String?) { if let client { inFlight[client, default: 0] += 1 } }

    mutating func release(_ client: String?) {
        guard let client, let n = inFlight[client] else { return }
        inFlight[client] = n > 1 ? n - 1 : nil
    }

    func count(_ client: String?) -> Int { client.flatMap { inFlight[$0] } ?? 0 }

    /// Takes one token of `client`'s bucket (`rate` a second, holding at most `rate`); false
    /// if it is empty.
    mutating func take(_ client: String, rate: Int, now: UInt64) -> Bool {
        let capacity = Double(rate)
        var b = buckets[client] ?? (tokens: capacity, at: now)
        b.tokens = min(capacity, b.tokens + Double(now &- b.at) / 1e9 * capacity)
        b.at = now
        let ok = b.tokens >= 1
        if ok { b.tokens -= 1 }
        buckets[client] = b
        if buckets.count > 16_384 {
            // Forget clients whose bucket has refilled: remembering them changes nothing.
            buckets = buckets.filter { Double(now &- $0.value.at) / 1e9 * capacity + $0.value.tokens < capacity }
        }
        return ok
    }

    func onProbation(_ client: String?, now: UInt64) -> Bool {
        guard let client, let until = probationUntil[client] else { return false }
        return until > now
    }

    mutating func putOnProbation(_ client: String?, seconds: Int, now: UInt64) {
        guard let client, seconds > 0 else { return }
        probationUntil[client] = now + UInt64(seconds) * 1_000_000_000
        if probationUntil.count > 16_384 { probationUntil = probationUntil.filter { $0.value > now } }
    }

    func onProbationCount(now: UInt64) -> Int { probationUntil.values.filter { $0 > now }.count }
}
