/// What one model version (or a whole model) has served: request counts and latency percentiles
/// over the most recent requests.
///
/// Latency is measured inside the server, from the moment the request reaches the inference
/// handler to the moment its response body is built (body collection, parsing, standardization,
/// the model, JSON), so it excludes the network and the HTTP codec.
public struct ServingStatistics: Sendable, Hashable, Codable {
    /// Inference requests answered with 200.
    public var requests: Int
    /// Rows computed by those requests.
    public var rows: Int
    /// Inference requests that reached this version and were refused (4xx) or failed (5xx).
    public var failures: Int
    /// How many of the most recent successful requests the percentiles are taken over.
    public var window: Int
    /// Median latency in seconds over the window (0 when it is empty).
    public var p50Seconds: Double
    /// 90th percentile latency in seconds over the window.
    public var p90Seconds: Double
    /// 99th percentile latency in seconds over the window.
    public var p99Seconds: Double
    /// Largest latency in seconds over the window.
    public var maxSeconds: Double

    /// Statistics from counts and a window of latencies in nanoseconds (percentiles by nearest rank).
    public init(requests: Int, rows: Int, failures: Int, latencies: [UInt64]) {
        self.requests = requests
        self.rows = rows
        self.failures = failures
        self.window = latencies.count
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1e9
        }
        self.p50Seconds = percentile(0.50)
        self.p90Seconds = percentile(0.90)
        self.p99Seconds = percentile(0.99)
        self.maxSeconds = Double(sorted.last ?? 0) / 1e9
    }
}

/// A ring of the last `capacity` request latencies plus running counts; the server records into
/// it from any thread.
///
/// The ring grows as requests come, up to `capacity`: a pipeline agent serving thousands of
/// versions, most of which answer a few requests, would otherwise hold 64 KiB of zeros for each.
struct LatencyReservoir: ~Copyable {
    private var latencies: [UInt64] = []
    private let capacity: Int
    private var next = 0
    private var filled = false
    private(set) var requests = 0
    private(set) var rows = 0
    private(set) var failures = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a reservoir needs room for one latency")
        self.capacity = capacity
    }

    /// Counts a successful request of `rows` rows that took `nanoseconds`.
    mutating func recordSuccess(rows: Int, nanoseconds: UInt64) {
        self.requests += 1
        self.rows += rows
        if self.latencies.count < self.capacity {
            self.latencies.append(nanoseconds)
        } else {
            self.latencies[self.next] = nanoseconds
        }
        self.next += 1
        if self.next == self.capacity {
            self.next = 0
            self.filled = true
        }
    }

    /// Counts a refused or failed request.
    mutating func recordFailure() {
        self.failures += 1
    }

    /// The latencies currently in the window, oldest order not kept.
    var window: [UInt64] { self.latencies }

    /// The statistics now.
    var statistics: ServingStatistics {
        ServingStatistics(requests: self.requests, rows: self.rows, failures: self.failures, latencies: self.window)
    }
}
