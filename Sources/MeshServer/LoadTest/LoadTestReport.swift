/// What a ``LoadTest`` measured.
public struct LoadTestReport: Sendable, Hashable, Codable {
    /// Connections that were kept busy.
    public var connections: Int
    /// The measured interval in seconds (after the warm-up).
    public var seconds: Double
    /// Responses received in the measured interval (any status).
    public var requests: Int
    /// Of those, responses with a status other than 2xx.
    public var non2xx: Int
    /// Connection failures and unreadable responses over the whole run (warm-up included).
    public var connectionErrors: Int
    /// `requests / seconds`.
    public var requestsPerSecond: Double
    /// Median round-trip latency in milliseconds, as the client saw it.
    public var p50Milliseconds: Double
    /// 90th percentile latency in milliseconds.
    public var p90Milliseconds: Double
    /// 99th percentile latency in milliseconds.
    public var p99Milliseconds: Double
    /// Largest latency in milliseconds.
    public var maxMilliseconds: Double

    /// All errors: non-2xx responses and connection errors.
    public var errors: Int { self.non2xx + self.connectionErrors }

    /// The report of `latencies` (nanoseconds, one per measured response).
    init(connections: Int, seconds: Double, latencies: [UInt64], non2xx: Int, connectionErrors: Int) {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1e6
        }
        self.connections = connections
        self.seconds = seconds
        self.requests = sorted.count
        self.non2xx = non2xx
        self.connectionErrors = connectionErrors
        self.requestsPerSecond = seconds > 0 ? Double(sorted.count) / seconds : 0
        self.p50Milliseconds = percentile(0.50)
        self.p90Milliseconds = percentile(0.90)
        self.p99Milliseconds = percentile(0.99)
        self.maxMilliseconds = Double(sorted.last ?? 0) / 1e6
    }

    /// One line for people: `44,123 req/s, p50 1.2 ms, p99 3.4 ms, 0 errors (64 connections, 10.0 s)`.
    public var summary: String {
        func ms(_ value: Double) -> String {
            let rounded = (value * 1000).rounded() / 1000
            return "\(rounded) ms"
        }
        return "\(Int(self.requestsPerSecond.rounded())) req/s, p50 \(ms(self.p50Milliseconds)), "
            + "p90 \(ms(self.p90Milliseconds)), p99 \(ms(self.p99Milliseconds)), max \(ms(self.maxMilliseconds)), "
            + "\(self.errors) errors (\(self.requests) requests, \(self.connections) connections, "
            + "\((self.seconds * 100).rounded() / 100) s)"
    }
}
