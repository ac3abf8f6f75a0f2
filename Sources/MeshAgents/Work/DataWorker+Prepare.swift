import Foundation
public import MeshCore
import Synchronization

extension DataWorker {
    /// Prepares `request` on a thread of its own: reads a CSV source's file, runs the pure
    /// preparation and encodes the dataset, so neither the file read nor the work occupies the
    /// cooperative pool. At most ``maximumConcurrentPreparations`` run at once (the others' threads
    /// wait before they read anything): more would not finish sooner on this many cores, and each
    /// one holds a dataset's worth of memory while it runs.
    public func prepare(_ request: PrepareRequest) async -> Result<[UInt8], DataError> {
        let baseDirectory = self.baseDirectory
        let sources = self.sources
        let slots = self.slots
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                slots.wait()
                defer { slots.signal() }
                continuation.resume(returning: Self.prepareNow(request, baseDirectory: baseDirectory, sources: sources))
            }
            thread.name = "data.prepare"
            thread.start()
        }
    }

    /// The same work on the calling thread.
    public static func prepareNow(_ request: PrepareRequest, baseDirectory: String?) -> Result<[UInt8], DataError> {
        self.prepareNow(request, baseDirectory: baseDirectory, sources: nil)
    }

    /// The same work on the calling thread, starting from a parse `sources` kept when the file's
    /// text is the one parsed before (and keeping this one there).
    static func prepareNow(
        _ request: PrepareRequest, baseDirectory: String?, sources: ParsedSourceCache?
    ) -> Result<[UInt8], DataError> {
        do throws(DataError) {
            var parsed: ParsedCSVSource?
            if case .csv(let path) = request.source.kind {
                let text = try Self.readSource(path: path, sourceID: request.source.id, baseDirectory: baseDirectory)
                parsed = sources?.parsed(text: text, for: request) ?? ParsedCSVSource(text: text, for: request)
            }
            let bytes = try PreparedDataset(preparing: request, parsed: parsed).encoded()
            guard bytes.count <= ComputeLimits.maximumPayloadBytes else {
                throw DataError(
                    .resultTooLarge,
                    request.source.id,
                    "the prepared dataset is \(bytes.count) bytes, a task result carries at most "
                        + "\(ComputeLimits.maximumPayloadBytes)"
                )
            }
            return .success(bytes)
        } catch {
            return .failure(error)
        }
    }

    /// Reads a CSV source's text. The path must be relative and stay inside the base directory
    /// (a request comes from the mesh; it may not name any file of the host).
    static func readSource(path: String, sourceID: String, baseDirectory: String?) throws(DataError) -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.hasPrefix("/"), !components.contains("..") else {
            throw DataError(
                .invalidRequest,
                sourceID,
                "\(path): a source path must be relative to the working directory, without '..'"
            )
        }
        let resolved = baseDirectory.map { ($0.hasSuffix("/") ? $0 : $0 + "/") + path } ?? path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): no such file")
        }
        guard !isDirectory.boolValue else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): a directory, not a CSV file")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: resolved)[.size] as? Int) ?? 0
        guard size <= Self.maximumFileBytes else {
            throw DataError(
                .sourceUnavailable,
                sourceID,
                "\(path): \(size) bytes, the data agent reads at most \(Self.maximumFileBytes)"
            )
        }
        guard let contents = FileManager.default.contents(atPath: resolved) else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): cannot be read")
        }
        guard let text = String(validating: contents, as: UTF8.self) else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): not UTF-8 text")
        }
        return text
    }
}

/// The CSV sources a data worker parsed last, by text: a file prepared again with the same bytes
/// (every use case of a fleet reads the same catalog file) is not scanned and parsed again. At
/// most `limit` parses, least recently used dropped first; the text is read every time and
/// compared byte for byte, so an edited file is parsed afresh.
final class ParsedSourceCache: Sendable {
    private let entries = Mutex<[ParsedCSVSource]>([])
    private let limit: Int
    private let byteLimit: Int

    init(limit: Int = 4, byteLimit: Int = 32 << 20) {
        self.limit = limit
        self.byteLimit = byteLimit
    }

    /// The parse of `text` for `request`'s source: the kept one, or a new one that is kept.
    func parsed(text: String, for request: PrepareRequest) -> ParsedCSVSource {
        let kept = self.entries.withLock { entries -> ParsedCSVSource? in
            guard let index = entries.firstIndex(where: { $0.matches(text: text, for: request) }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry
        }
        if let kept { return kept }
        // Parsed outside the lock: two threads may parse one text at once, and both parses are equal.
        let parsed = ParsedCSVSource(text: text, for: request)
        guard parsed.approximateBytes <= self.byteLimit else { return parsed }
        self.entries.withLock { entries in
            guard !entries.contains(where: { $0.matches(text: text, for: request) }) else { return }
            entries.append(parsed)
            while entries.count > self.limit || entries.reduce(0, { $0 + $1.approximateBytes }) > self.byteLimit {
                entries.removeFirst()
            }
        }
        return parsed
    }

    /// How many parses are kept (for tests).
    var count: Int { self.entries.withLock { $0.count } }
}
